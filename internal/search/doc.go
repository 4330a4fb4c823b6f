// Package search reads the query a recruiter types into the candidate
// search and folds text for the full-text index, so that documents and
// queries agree on what a word is. It touches no database: the query comes
// out as a MATCH expression for SQLite's FTS5, a tsquery for PostgreSQL and
// structured filters, all meant for bound parameters.
//
// # The query language
//
// Words: every word must occur. Case and diacritics do not matter, so
// oyvind odegard finds Øyvind Ødegård and stastny finds Šťastný. A word that
// holds punctuation is searched as its parts in a row: e-mail is e mail.
//
// "Phrases": words in quotes must occur together, in that order. The quotes
// may be "straight", „Czech“, ”Swedish” or «Norwegian».
//
// Prefix: a word ending in * matches every word that starts with it:
// develop* finds developer and development. It needs at least two letters
// before the *. A phrase ending in * ("project manag"*) ends with a prefix.
//
// OR: between two items, either may match: java OR kotlin spring finds
// candidates with Spring and Java or Kotlin (OR binds tighter than the
// implicit AND). OR is written in capitals; or is a plain word. AND in
// capitals may be written and changes nothing.
//
// Exclusion: a minus before a word, a phrase or a filter excludes what
// matches it: java -php, -"team lead", -stage:rejected. A search needs at
// least one word that is not excluded (filters alone are fine), and an
// excluded item cannot be part of an OR.
//
// Filters: field:value, or field:"value with spaces", narrow the search:
//
//	skill:python        the candidate's skill
//	label:senior        a label on the candidate
//	stage:interview     the stage of an application
//	position:"data engineer"  the position applied for
//	source:linkedin     where the application came from
//	city:brno           the candidate's city
//	applied:>2026-01-01 applied after a day; also >=, <, <=, = or none (that
//	                    day), and a range of days: applied:2026-01-01..2026-03-31
//	consent:valid       the consent to keep the candidate's data: valid,
//	                    expiring (soon) or none
//
// Filters may be joined by OR: skill:go OR skill:rust. A word followed by a
// colon that is no field name is searched as text, so c++: and 10:30 are
// words. Filter values match whole; field names may be written in any case.
//
// A query is at most 500 bytes with at most 32 items (words, phrases and
// filters). A query that cannot be read is refused with a *QueryError whose
// Key is the message to show and whose Pos points at the trouble.
package search
