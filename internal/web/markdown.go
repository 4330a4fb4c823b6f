package web

import (
	"bytes"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// The ads are Markdown: goldmark renders them (raw HTML is not passed
// through), and bluemonday keeps only harmless markup (no scripts, styles,
// event handlers or javascript: links; links get rel="nofollow noopener").
var (
	markdown = goldmark.New(goldmark.WithExtensions(extension.Linkify, extension.Strikethrough, extension.Table))
	sanitize = func() *bluemonday.Policy {
		p := bluemonday.UGCPolicy()
		p.AllowElements("h1", "h2", "h3", "h4")
		p.RequireNoFollowOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		p.AllowImages() // only http(s) sources, by the policy's URL rules
		return p
	}()
)

// renderMarkdown turns a position's description into safe HTML.
func renderMarkdown(text string) template.HTML {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(text), &b); err != nil {
		return template.HTML(template.HTMLEscapeString(text))
	}
	return template.HTML(sanitize.SanitizeBytes(b.Bytes())) //nolint:gosec // sanitised just now
}
