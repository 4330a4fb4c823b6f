package synth

import (
	"math/rand/v2"
	"strconv"
	"strings"
)

// ProfileText is an invented candidate profile: what the person does now,
// for whom, their skills and languages, and what they expect.
type ProfileText struct {
	// Title is the current job title and Employer the current employer,
	// in the person's language.
	Title, Employer string
	// Skills are three to eight skills of the field of work.
	Skills []string
	// Languages are one to three ISO 639-1 codes with a level ("native"
	// or C2..A1), the mother tongue first.
	Languages [][2]string
	// NoticeWeeks is the notice period, 0 to 12 weeks; -1 when not known.
	NoticeWeeks int
	// Salary is the expectation in whole units of Currency per Period
	// ("month" or "year"); 0 when not given (about half of the profiles).
	Salary           int64
	Currency, Period string
	// LinkedIn is a profile address, or "".
	LinkedIn string
}

// skillVocabulary holds the skills of each category of work: about 150
// in all, the vocabulary a company's candidates' profiles draw from.
var skillVocabulary = [numCategories][]string{
	catSoftware: {"Go", "Java", "Python", "JavaScript", "TypeScript", "React", "Kotlin", "C#", ".NET", "SQL", "PostgreSQL", "Docker",
		"Kubernetes", "AWS", "Azure", "Linux", "Git", "REST APIs", "CI/CD", "Terraform", "Rust", "Vue.js"},
	catHealth: {"Patient care", "Wound care", "Medication administration", "Triage", "Geriatric care", "Paediatrics", "Phlebotomy",
		"Infection control", "First aid", "CPR", "Electronic health records", "Palliative care", "Mental health", "Intensive care",
		"Midwifery", "Physiotherapy", "Dementia care", "Vital signs monitoring"},
	catLogistics: {"Forklift licence", "Warehouse management", "Inventory control", "SAP", "Order picking", "Route planning",
		"Truck licence C", "ADR", "Supply chain", "Purchasing", "Shipping documentation", "Customs", "Lean", "WMS", "Dispatching",
		"Reach truck", "Cold chain", "Fleet management"},
	catSales: {"B2B sales", "Account management", "CRM", "Salesforce", "Negotiation", "Lead generation", "Cold calling",
		"Key account management", "Retail", "Merchandising", "Presentation", "Market analysis", "E-commerce", "HubSpot",
		"Customer retention", "Tendering", "Sales forecasting", "Upselling"},
	catFinance: {"Accounting", "Bookkeeping", "Excel", "Financial reporting", "IFRS", "Budgeting", "Controlling", "Payroll", "VAT",
		"Accounts payable", "Accounts receivable", "Audit", "Power BI", "Financial analysis", "Treasury", "Tax", "Consolidation", "Fortnox"},
	catManufacturing: {"CNC machining", "Welding", "MIG/MAG welding", "TIG welding", "Quality control", "Lean manufacturing", "PLC",
		"Maintenance", "Assembly", "Technical drawings", "AutoCAD", "SolidWorks", "Six Sigma", "ISO 9001", "Hydraulics",
		"Electrical installation", "Production planning", "Metrology"},
	catCustomer: {"Customer service", "Zendesk", "Complaint handling", "Telephone support", "Live chat", "Ticketing", "Empathy",
		"Conflict resolution", "Order processing", "Reception", "Booking systems", "Technical support", "Freshdesk", "Call centre",
		"Hospitality", "Cash handling", "Multitasking", "Service design"},
	catHR: {"Recruitment", "Onboarding", "Employment law", "HR administration", "Interviewing", "Employer branding", "Workday",
		"Compensation and benefits", "Training", "Performance management", "Labour relations", "Sourcing", "LinkedIn Recruiter",
		"Occupational health", "Payroll administration", "Talent management", "Coaching", "Change management"},
}

// profileLanguage is each candidate language's ISO 639-1 code.
var profileLanguage = map[string]string{"sv": "sv", "nb": "nb", "sk": "sk", "cs": "cs", "en": "en"}

// salaries are the expected pay of each country: currency, period and a
// range, in steps of step.
var salaries = map[string]struct {
	currency, period string
	low, high, step  int64
}{
	"SE": {"SEK", "month", 30000, 75000, 1000},
	"NO": {"NOK", "month", 40000, 90000, 1000},
	"SK": {"EUR", "month", 1200, 4500, 100},
	"CZ": {"CZK", "month", 35000, 110000, 1000},
	"GB": {"GBP", "year", 26000, 90000, 1000},
}

// Profile invents the profile of p, applying for a position titled
// positionTitle: a job and employer of the same field in p's language,
// skills of the field, languages, notice period, for about half a salary
// expectation in the country's currency, and sometimes a LinkedIn address.
func Profile(r *rand.Rand, p Person, positionTitle string) ProfileText {
	t := textOf(p.Language)
	cat := categoryOf(positionTitle)
	if cat < 0 {
		cat = r.IntN(numCategories)
	}
	out := ProfileText{Title: pick(r, t.titles[cat]), Employer: pick(r, t.employers), NoticeWeeks: -1}
	out.Skills = pickN(r, skillVocabulary[cat], 3+r.IntN(6))
	native := profileLanguage[t.lang]
	out.Languages = append(out.Languages, [2]string{native, "native"})
	levels := []string{"C2", "C1", "B2", "B1", "A2"}
	if native != "en" && r.IntN(10) < 8 {
		out.Languages = append(out.Languages, [2]string{"en", levels[r.IntN(4)]})
	}
	if r.IntN(3) == 0 {
		other := []string{"de", "fr", "es", "pl", "sv", "nb", "cs", "sk"}[r.IntN(8)]
		if other != native && len(out.Languages) < 3 {
			out.Languages = append(out.Languages, [2]string{other, levels[1+r.IntN(4)]})
		}
	}
	if r.IntN(10) < 8 {
		out.NoticeWeeks = []int{0, 1, 2, 4, 4, 4, 8, 8, 12, 12}[r.IntN(10)]
	}
	if s, ok := salaries[p.Country]; ok && r.IntN(2) == 0 {
		out.Salary = s.low + s.step*r.Int64N((s.high-s.low)/s.step+1)
		out.Currency, out.Period = s.currency, s.period
	}
	if r.IntN(5) < 2 {
		out.LinkedIn = "https://www.linkedin.com/in/" + strings.ReplaceAll(EmailLocal(p), ".", "-") + "-" + strconv.Itoa(100+r.IntN(900))
	}
	return out
}
