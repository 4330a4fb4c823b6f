package cli

import (
	"strings"
	"testing"
)

// The command table is the whole command line: every entry must run
// something, and every entry the help lists must say in one line what it
// does, under a name no other entry takes.
func TestCommandTableIsComplete(t *testing.T) {
	commandsSeen := map[string]bool{}
	for _, c := range commands() {
		if commandsSeen[c.name] {
			t.Errorf("command %q is in the table twice", c.name)
		}
		commandsSeen[c.name] = true
		if c.actions == nil {
			if c.run == nil {
				t.Errorf("%s: neither a function nor actions", c.name)
			}
			checkSummary(t, c.name, c.summary)
			continue
		}
		if c.run != nil {
			t.Errorf("%s: has actions, so its own function would never run", c.name)
		}
		actionsSeen := map[string]bool{}
		for _, a := range c.actions {
			name := c.name + " " + a.name
			if actionsSeen[a.name] {
				t.Errorf("%s is in the table twice", name)
			}
			actionsSeen[a.name] = true
			if a.run == nil {
				t.Errorf("%s: no function", name)
			}
			switch {
			case a.alias && a.summary != "":
				t.Errorf("%s: an alias is not listed, so its summary %q is never shown", name, a.summary)
			case !a.alias:
				checkSummary(t, name, a.summary)
			}
		}
		if len(c.listed()) == 0 {
			t.Errorf("%s: no action is listed", c.name)
		}
	}
}

func checkSummary(t *testing.T, name, summary string) {
	t.Helper()
	if strings.TrimSpace(summary) == "" || strings.Contains(summary, "\n") || len(summary) > 80 {
		t.Errorf("%s: the summary %q is not one line of at most 80 characters", name, summary)
	}
}

// Each action's help is its own: usage naming the action, then the action's
// own flags (or that it has none) before the installation settings every
// command shares. "help <command> <action>" says the same.
func TestEveryActionHasItsOwnHelp(t *testing.T) {
	for _, c := range commands() {
		for _, a := range c.actions {
			name := c.name + " " + a.name
			r := run(t, nil, c.name, a.name, "--help")
			if r.code != 0 || r.stderr != "" {
				t.Errorf("%s --help: exit %d, stderr %q", name, r.code, r.stderr)
				continue
			}
			if !strings.HasPrefix(r.stdout, "Usage: kandidat "+name+" ") {
				t.Errorf("%s --help does not start with its usage:\n%s", name, r.stdout)
			}
			shared := strings.Index(r.stdout, "Installation settings")
			own := strings.Index(r.stdout, "\nFlags:\n")
			none := strings.Index(r.stdout, "no flags of its own")
			switch {
			case shared < 0:
				t.Errorf("%s --help does not point to the installation settings:\n%s", name, r.stdout)
			case own < 0 && none < 0:
				t.Errorf("%s --help neither lists its flags nor says it has none:\n%s", name, r.stdout)
			case max(own, none) > shared:
				t.Errorf("%s --help shows the shared settings before its own flags:\n%s", name, r.stdout)
			}
			if h := run(t, nil, "help", c.name, a.name); h.stdout != r.stdout {
				t.Errorf("help %s differs from %s --help:\n%s", name, name, h.stdout)
			}
		}
	}
}
