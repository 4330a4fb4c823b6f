package importer

import (
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/fault"
	"github.com/kandidat/kandidat/internal/search"
)

// The fields of Kandidat a column can feed.
const (
	FieldGivenName       = "given_name"
	FieldFamilyName      = "family_name"
	FieldFullName        = "full_name"
	FieldEmail           = "email"
	FieldPhone           = "phone"
	FieldCity            = "city"
	FieldCountry         = "country"
	FieldTitle           = "title"
	FieldEmployer        = "employer"
	FieldLinks           = "links"
	FieldSkills          = "skills"
	FieldLanguages       = "languages"
	FieldPosition        = "position"
	FieldPositionRef     = "position_ref"
	FieldStage           = "stage"
	FieldApplied         = "applied"
	FieldSource          = "source"
	FieldLabels          = "labels"
	FieldComment         = "comment"
	FieldDocuments       = "documents"
	FieldBasis           = "basis"
	FieldBasisDate       = "basis_date"
	FieldConsentEvidence = "consent_evidence"
	FieldExternalID      = "external_id"
)

// Fields lists them in the order the mapping form shows them.
var Fields = []string{FieldGivenName, FieldFamilyName, FieldFullName, FieldEmail, FieldPhone, FieldCity, FieldCountry, FieldTitle,
	FieldEmployer, FieldLinks, FieldSkills, FieldLanguages, FieldPosition, FieldPositionRef, FieldStage, FieldApplied, FieldSource,
	FieldLabels, FieldComment, FieldDocuments, FieldBasis, FieldBasisDate, FieldConsentEvidence, FieldExternalID}

// The processing bases a row names.
const (
	BasisPurpose = "purpose"
	BasisConsent = "consent"
)

// Mapping says which column feeds which field. Several columns may feed
// one field: the first non-empty one, in the file's order, wins. Defaults
// are values the user chose for every row (e.g. the basis and its date for
// an export that has none); a row's own value comes first.
type Mapping struct {
	Name    string            `json:"name,omitempty"`
	Columns map[string]string `json:"columns"`
	// Stages maps a value of the stage column (folded) to a stage kind.
	Stages   map[string]string `json:"stages,omitempty"`
	Defaults map[string]string `json:"defaults,omitempty"`
}

// The mappings' refusals.
var (
	ErrMappingName    = fault.NewField(fault.ErrInvalid, "name", "mapping name", "import.error_mapping_name")
	ErrMappingField   = fault.NewField(fault.ErrInvalid, "mapping", "mapping field unknown", "import.error_mapping_field")
	ErrMappingStage   = fault.NewField(fault.ErrInvalid, "mapping", "mapping stage unknown", "import.error_mapping_stage")
	ErrMappingNoEmail = fault.NewField(fault.ErrInvalid, "mapping", "mapping has no email", "import.error_mapping_email")
	ErrMappingNoName  = fault.NewField(fault.ErrInvalid, "mapping", "mapping has no name", "import.error_mapping_name_field")
	ErrMappingUnknown = fault.NewField(fault.ErrInvalid, "mapping", "mapping unknown", "import.error_mapping_unknown")
	ErrMappingDefault = fault.NewField(fault.ErrInvalid, "mapping", "mapping default", "import.error_mapping_default")
)

// defaultable are the fields a mapping may give one value for every row.
var defaultable = []string{FieldBasis, FieldBasisDate, FieldApplied, FieldSource, FieldStage, FieldPosition, FieldConsentEvidence, FieldCountry}

// Check validates a mapping: known fields and stage kinds, an email and a
// name column, defaults only where one value for every row makes sense.
func (m *Mapping) Check() error {
	if m.Name != "" && (utf8.RuneCountInString(m.Name) > 60 || strings.ContainsFunc(m.Name, func(r rune) bool { return r < ' ' }) || strings.TrimSpace(m.Name) != m.Name) {
		return ErrMappingName
	}
	has := map[string]bool{}
	for col, f := range m.Columns {
		if f == "" {
			delete(m.Columns, col)
			continue
		}
		if !slices.Contains(Fields, f) {
			return ErrMappingField
		}
		has[f] = true
	}
	for v, k := range m.Stages {
		if !slices.Contains(access.StageKinds, access.StageKind(k)) {
			return ErrMappingStage
		}
		if f := search.Fold(strings.TrimSpace(v)); f != v {
			delete(m.Stages, v)
			m.Stages[f] = k
		}
	}
	for f, v := range m.Defaults {
		if v == "" {
			delete(m.Defaults, f)
			continue
		}
		if !slices.Contains(defaultable, f) || utf8.RuneCountInString(v) > 2000 {
			return ErrMappingDefault
		}
		has[f] = true
	}
	if !has[FieldEmail] {
		return ErrMappingNoEmail
	}
	if !has[FieldFullName] && !has[FieldGivenName] && !has[FieldFamilyName] {
		return ErrMappingNoName
	}
	return nil
}

// Encode is the stored form of a mapping.
func (m *Mapping) Encode() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// DecodeMapping reads a stored mapping.
func DecodeMapping(s string) (*Mapping, error) {
	m := &Mapping{}
	if err := json.Unmarshal([]byte(s), m); err != nil {
		return nil, err
	}
	if m.Columns == nil {
		m.Columns = map[string]string{}
	}
	return m, nil
}

// ParseMap reads a mapping typed as "Column=field,Other=field" (the
// command line's --map); a column name may not hold "=" or ",".
// "stage:Value=kind" maps a stage value; "default:field=value" sets a
// default.
func ParseMap(spec string) (*Mapping, error) {
	m := &Mapping{Columns: map[string]string{}, Stages: map[string]string{}, Defaults: map[string]string{}}
	for item := range strings.SplitSeq(spec, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		if !ok {
			return nil, ErrMappingField
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case strings.HasPrefix(k, "stage:"):
			m.Stages[search.Fold(strings.TrimPrefix(k, "stage:"))] = v
		case strings.HasPrefix(k, "default:"):
			m.Defaults[strings.TrimPrefix(k, "default:")] = v
		default:
			m.Columns[k] = v
		}
	}
	return m, m.Check()
}

// Builtin are the mappings every company has, by name.
var Builtin = map[string]*Mapping{
	// OpenCATS's own candidate export (Candidates::getExport in
	// lib/Candidates.php, written by lib/Export.php: the query's aliases
	// as the header, every value quoted, CRLF). It has no dates and no
	// basis: the import asks for both as defaults (docs/import.md).
	"opencats": {Name: "opencats", Columns: map[string]string{
		"candidateID": FieldExternalID, "lastName": FieldFamilyName, "firstName": FieldGivenName,
		"phoneHome": FieldPhone, "phoneCell": FieldPhone, "email1": FieldEmail, "keySkills": FieldSkills,
	}},
	// A spreadsheet with one column per field, named as Kandidat names them
	// in English.
	"spreadsheet": {Name: "spreadsheet", Columns: map[string]string{
		"First name": FieldGivenName, "Last name": FieldFamilyName, "Name": FieldFullName, "Email": FieldEmail, "Phone": FieldPhone,
		"City": FieldCity, "Country": FieldCountry, "Title": FieldTitle, "Employer": FieldEmployer, "Links": FieldLinks,
		"Skills": FieldSkills, "Languages": FieldLanguages, "Position": FieldPosition, "Position ID": FieldPositionRef,
		"Stage": FieldStage, "Applied": FieldApplied, "Source": FieldSource, "Labels": FieldLabels, "Comment": FieldComment,
		"Documents": FieldDocuments, "Basis": FieldBasis, "Basis date": FieldBasisDate, "Consent evidence": FieldConsentEvidence,
		"ID": FieldExternalID,
	}},
}

// BuiltinNames lists the built-in mappings' names.
func BuiltinNames() []string { return []string{"opencats", "spreadsheet"} }

// clone returns a copy m's maps can be changed in.
func (m *Mapping) clone() *Mapping {
	c := &Mapping{Name: m.Name, Columns: map[string]string{}, Stages: map[string]string{}, Defaults: map[string]string{}}
	for k, v := range m.Columns {
		c.Columns[k] = v
	}
	for k, v := range m.Stages {
		c.Stages[k] = v
	}
	for k, v := range m.Defaults {
		c.Defaults[k] = v
	}
	return c
}

// ForHeader is m restricted to the columns a file has (a built-in mapping
// names columns a file may lack).
func (m *Mapping) ForHeader(header []string) *Mapping {
	c := m.clone()
	for col := range c.Columns {
		if !slices.Contains(header, col) {
			delete(c.Columns, col)
		}
	}
	return c
}
