package recruit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/extract"
	"github.com/kandidat/kandidat/internal/recruit"
)

// marked writes a snippet with its hits in [brackets], after its field.
func marked(s *recruit.Snippet) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(s.Field + ": ")
	for _, p := range s.Parts {
		if p.Hit {
			b.WriteString("[" + p.Text + "]")
		} else {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// TestListSnippets: the list's rows found by a search carry the fragment
// of the row's CV text, comment or label that holds the query's words,
// with them marked; the labels of the page are counted. Private notes,
// and what the row's application does not hold, give no snippet.
func TestListSnippets(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hr := e.users[access.HRManager]
	pos := e.published(t, "Platform engineer")
	cv := "Curriculum vitae\n\nSenior engineer running Kubernetes clusters at Equinor since 2019.\nReferences: Øyvind Ødegård, Oslo.\n"
	withCV := e.careerApply(t, pos.ID, recruit.ApplyInput{Name: "Jiří Dvořák", Email: "jiri@example.org",
		CV: &recruit.Upload{Name: "cv.txt", Data: []byte(cv)}})
	plain := e.apply(t, access.HRManager, pos.ID, "Anna Berg", "anna@example.org", access.StageNew)
	x := extract.New(extract.DefaultLimits())
	defer x.Close()
	if _, err := e.svc.ExtractTexts(ctx, x, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddComment(ctx, hr, plain.ID, "Strong in Terraform; asked about relocation to Bergen."); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AddNote(ctx, hr, withCV.ID, "secretword about salary"); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"shortlist", "devops"} {
		if err := e.svc.AddLabel(ctx, hr, plain.ID, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.svc.AddLabel(ctx, hr, withCV.ID, "shortlist"); err != nil {
		t.Fatal(err)
	}
	e.indexed(t)

	for _, c := range []struct {
		q    string
		want map[string]string // by application id
	}{
		{"odegard", map[string]string{withCV.ID: "cv: … since 2019. References: Øyvind [Ødegård], Oslo."}},
		{"kubernetes equinor", map[string]string{withCV.ID: "cv: … vitae Senior engineer running [Kubernetes] clusters at [Equinor] since 2019. References: Øyvind Ødegård, Oslo."}},
		{"terraf", map[string]string{plain.ID: "comment: Strong in [Terraform]; asked about relocation to Bergen."}},
		{"devops", map[string]string{plain.ID: "label: [devops]"}},
		// Found by name: the row shows it; no snippet to add.
		{"dvorak", map[string]string{}},
		// Private notes are not in the index, nor in snippets.
		{"secretword", map[string]string{}},
	} {
		page, err := e.svc.ListPage(ctx, hr, recruit.ListFilter{Text: c.q})
		if err != nil {
			t.Fatalf("%q: %v", c.q, err)
		}
		d, err := e.svc.ListDetails(ctx, hr, c.q, page.Applications)
		if err != nil {
			t.Fatalf("%q: %v", c.q, err)
		}
		got := map[string]string{}
		for id, s := range d.Snippets {
			got[id] = marked(s)
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: %d snippets %v, want %d", c.q, len(got), got, len(c.want))
		}
		for id, w := range c.want {
			if got[id] != w {
				t.Errorf("%q: got %q, want %q", c.q, got[id], w)
			}
		}
	}

	// The page's labels, most used first.
	page, err := e.svc.ListPage(ctx, hr, recruit.ListFilter{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := e.svc.ListDetails(ctx, hr, "", page.Applications)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Snippets) != 0 || len(d.Labels) != 2 || d.Labels[0] != (recruit.LabelCount{Label: "shortlist", Count: 2}) || d.Labels[1].Label != "devops" {
		t.Errorf("labels: got %+v, snippets %d", d.Labels, len(d.Snippets))
	}

	// Rows the actor may not see give nothing, even when handed in.
	line := e.users[access.LineManager]
	d, err = e.svc.ListDetails(ctx, line, "terraform", []*recruit.Application{plain})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Snippets) != 0 || len(d.Labels) != 0 {
		t.Errorf("a line manager gets details of an application they may not see: %+v", d)
	}
}
