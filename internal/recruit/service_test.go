package recruit_test

import (
	"testing"

	"github.com/kandidat/kandidat/internal/recruit"
)

// TestNewServiceNeedsCareer checks that a service built without the career
// page's file store and email queue fails at construction, not at the
// first application.
func TestNewServiceNeedsCareer(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("NewService without the file store and the email queue did not panic")
		}
	}()
	recruit.NewService(nil, nil, nil, nil, recruit.Options{})
}
