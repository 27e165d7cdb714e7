//! The captive page's own few words, in the languages a campaign is most likely to give its
//! texts in; any other language shows them in English beside the campaign's own texts.

/// What the page says besides the campaign's texts.
pub struct Words {
    pub from: &'static str,
    pub open: &'static str,
    pub save: &'static str,
    pub nothing: &'static str,
    pub note: &'static str,
}

const EN: Words = Words {
    from: "From",
    open: "Open",
    save: "Save",
    nothing: "Nothing to offer right now. Please ask at the stand.",
    note: "Free, with nothing to install and no sign-up. This Wi-Fi has no internet.",
};

const TABLE: &[(&str, Words)] = &[
    (
        "de",
        Words {
            from: "Von",
            open: "Öffnen",
            save: "Speichern",
            nothing: "Gerade gibt es hier nichts. Bitte fragen Sie am Stand.",
            note: "Kostenlos, ohne App und ohne Anmeldung. Dieses WLAN hat kein Internet.",
        },
    ),
    (
        "fr",
        Words {
            from: "De",
            open: "Ouvrir",
            save: "Enregistrer",
            nothing: "Rien à proposer pour l'instant. Demandez au stand.",
            note: "Gratuit, sans application ni inscription. Ce Wi-Fi n'a pas d'accès à Internet.",
        },
    ),
    (
        "es",
        Words {
            from: "De",
            open: "Abrir",
            save: "Guardar",
            nothing: "Ahora no hay nada que ofrecer. Pregunte en el stand.",
            note: "Gratis, sin instalar nada y sin registro. Esta wifi no tiene internet.",
        },
    ),
    (
        "it",
        Words {
            from: "Da",
            open: "Apri",
            save: "Salva",
            nothing: "Per ora non c'è niente. Chieda allo stand.",
            note: "Gratis, senza app e senza registrazione. Questo Wi-Fi non ha internet.",
        },
    ),
    (
        "nl",
        Words {
            from: "Van",
            open: "Openen",
            save: "Opslaan",
            nothing: "Er is nu niets te halen. Vraag het bij de stand.",
            note: "Gratis, zonder app en zonder aanmelden. Deze wifi heeft geen internet.",
        },
    ),
];

/// The words for a language tag (`de-AT` takes German); English otherwise.
pub fn of(lang: Option<&str>) -> &'static Words {
    let primary = lang.and_then(|l| l.split('-').next()).unwrap_or("en");
    TABLE
        .iter()
        .find(|(l, _)| *l == primary)
        .map_or(&EN, |(_, w)| w)
}
