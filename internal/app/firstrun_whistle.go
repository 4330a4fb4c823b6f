package app

import (
	"context"

	"github.com/kandidat/kandidat/internal/access"
	"github.com/kandidat/kandidat/internal/tenant"
	"github.com/kandidat/kandidat/internal/whistle"
)

// demoChannel is the demo company's reporting channel, in every language.
var demoChannel = whistle.Channel{
	Slug: "ethics", Name: "Ethics and compliance", DefaultLanguage: "en", Languages: whistle.Languages,
	Intro: map[string]string{
		"en": "Report a concern about wrongdoing at Demo Company: fraud, corruption, safety, harassment or breaches of law.\n\nYou need not give your name. You receive a receipt code: keep it to read our answers and to add information.",
		"sv": "Rapportera misstänkta missförhållanden på Demo Company: bedrägeri, korruption, säkerhet, trakasserier eller lagbrott.\n\nDu behöver inte uppge ditt namn. Du får en kvittokod: spara den för att läsa våra svar och lägga till information.",
		"nb": "Varsle om kritikkverdige forhold i Demo Company: svindel, korrupsjon, sikkerhet, trakassering eller lovbrudd.\n\nDu trenger ikke oppgi navnet ditt. Du får en kvitteringskode: ta vare på den for å lese svarene våre og legge til informasjon.",
		"sk": "Nahláste podozrenie z protispoločenskej činnosti v Demo Company: podvod, korupcia, bezpečnosť, obťažovanie alebo porušenie zákona.\n\nNemusíte uviesť svoje meno. Dostanete kód potvrdenia: uschovajte si ho, aby ste mohli čítať naše odpovede a doplniť informácie.",
		"cs": "Oznamte podezření na protiprávní jednání v Demo Company: podvod, korupce, bezpečnost, obtěžování nebo porušení zákona.\n\nNemusíte uvést své jméno. Obdržíte kód potvrzení: uschovejte si jej, abyste mohli číst naše odpovědi a doplnit informace.",
	},
	Categories: []whistle.Choice{
		{Key: "c1", Labels: map[string]string{"en": "Fraud or corruption", "sv": "Bedrägeri eller korruption", "nb": "Svindel eller korrupsjon", "sk": "Podvod alebo korupcia", "cs": "Podvod nebo korupce"}},
		{Key: "c2", Labels: map[string]string{"en": "Health and safety", "sv": "Hälsa och säkerhet", "nb": "Helse og sikkerhet", "sk": "Zdravie a bezpečnosť", "cs": "Zdraví a bezpečnost"}},
		{Key: "c3", Labels: map[string]string{"en": "Harassment or discrimination", "sv": "Trakasserier eller diskriminering", "nb": "Trakassering eller diskriminering", "sk": "Obťažovanie alebo diskriminácia", "cs": "Obtěžování nebo diskriminace"}},
		{Key: "c4", Labels: map[string]string{"en": "Other breach of law", "sv": "Annat lagbrott", "nb": "Annet lovbrudd", "sk": "Iné porušenie zákona", "cs": "Jiné porušení zákona"}},
	},
	Questions: []whistle.Question{
		{Key: "q1", Kind: whistle.QuestionDate, Labels: map[string]string{"en": "When did it happen?", "sv": "När hände det?", "nb": "Når skjedde det?", "sk": "Kedy sa to stalo?", "cs": "Kdy se to stalo?"}},
		{Key: "q2", Kind: whistle.QuestionChoice, Required: true, Labels: map[string]string{"en": "Is it still going on?", "sv": "Pågår det fortfarande?", "nb": "Pågår det fortsatt?", "sk": "Stále to pokračuje?", "cs": "Stále to pokračuje?"},
			Choices: []whistle.Choice{
				{Key: "yes", Labels: map[string]string{"en": "Yes", "sv": "Ja", "nb": "Ja", "sk": "Áno", "cs": "Ano"}},
				{Key: "no", Labels: map[string]string{"en": "No", "sv": "Nej", "nb": "Nei", "sk": "Nie", "cs": "Ne"}},
				{Key: "unknown", Labels: map[string]string{"en": "I do not know", "sv": "Vet inte", "nb": "Vet ikke", "sk": "Neviem", "cs": "Nevím"}}}},
		{Key: "q3", Kind: whistle.QuestionText, Labels: map[string]string{"en": "Who else knows about it?", "sv": "Vem mer känner till det?", "nb": "Hvem andre vet om det?", "sk": "Kto ďalší o tom vie?", "cs": "Kdo další o tom ví?"}},
		{Key: "q4", Kind: whistle.QuestionAttachments, Labels: map[string]string{"en": "Documents or pictures", "sv": "Dokument eller bilder", "nb": "Dokumenter eller bilder", "sk": "Dokumenty alebo obrázky", "cs": "Dokumenty nebo obrázky"}},
	},
	AllowIdentified: true, RetentionDays: 730, Active: true,
}

// seedDemoWhistle gives the demo company its reporting channel (made by
// the first run with the company's settings, as its administrator would),
// the case handler's key (sealed under the demo password, which the first
// sign-in's password change re-seals) and two reports: one new, one
// acknowledged and answered. It returns the receipt of the answered one, so
// that the reporter's side can be tried.
func (a *App) seedDemoWhistle(ctx context.Context, t *tenant.Tenant, handler access.Actor, password string) (string, error) {
	if _, err := a.Whistle.Enrol(ctx, handler, password, false); err != nil {
		return "", err
	}
	ch := demoChannel
	ch.Handlers = []string{handler.UserID}
	id, err := a.Whistle.SaveChannel(ctx, access.System("first-run", t.ID, access.CompanySettings), ch)
	if err != nil {
		return "", err
	}
	if _, err := a.Whistle.Submit(ctx, t.ID, id, whistle.Submission{Language: "en", Category: "c2",
		Answers: map[string]string{"q2": "yes"},
		Text:    "The emergency exit in the warehouse has been blocked by pallets for two weeks. I told the shift lead but nothing happened."}); err != nil {
		return "", err
	}
	r, err := a.Whistle.Submit(ctx, t.ID, id, whistle.Submission{Language: "en", Category: "c1",
		Answers: map[string]string{"q1": "2026-10-14", "q2": "unknown", "q3": "Probably the accounts payable team."},
		Text:    "Invoices from a supplier are approved twice a month for work I have never seen done. The amounts are just under the approval limit."})
	if err != nil {
		return "", err
	}
	env, err := a.Whistle.Unlock(ctx, handler, "first-run", password)
	if err != nil {
		return "", err
	}
	h, _, err := a.Whistle.Handler(ctx, handler, "first-run", env)
	if err != nil {
		return "", err
	}
	cases, err := a.Whistle.Cases(ctx, handler, whistle.CaseFilter{})
	if err != nil {
		return "", err
	}
	for _, c := range cases {
		// Ids are random: find the fraud report by its category.
		cs, err := a.Whistle.Case(ctx, h, c.ID)
		if err != nil {
			return "", err
		}
		if cs.Entries[0].Content.Category != "Fraud or corruption" {
			continue
		}
		if err := a.Whistle.Acknowledge(ctx, h, c.ID, ""); err != nil {
			return "", err
		}
		if err := a.Whistle.Reply(ctx, h, c.ID, "Thank you. Can you tell us the supplier's name and roughly since when this happens?", nil, false); err != nil {
			return "", err
		}
	}
	return r.Code, nil
}
