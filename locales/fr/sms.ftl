# Réponses SMS, français. Un SMS fait 160 caractères GSM-7 : restez court et
# dans l'alphabet GSM-7 (ni ç ni ê). Les mots-clés sont dans flows/*.toml.

## Formulations propres au SMS
error-too-many-sms = Trop d'essais. Envoyez AIDE quand vous voulez. Merci.
public-declined-sms = Rien n'a été enregistré. Vous pouvez écrire à tout moment.

## Commandes
sms-help-volunteer = Kanda : SIGNALER pour signaler un enfant, VISITE pour une visite, STATUT pour vos signalements, LANG EN in English. Vite : {sms-usage-report}. {sms-usage-visit}. AIDE SIGNALER : codes.
sms-help-public = Kanda protection de l'enfance : pour nous parler d'un enfant en danger, envoyez SIGNALER. Quelques questions ; vous pouvez rester anonyme.
sms-continue = Ou répondez à la dernière question pour continuer.
sms-volunteers-only = Ceci est pour les bénévoles inscrits. Pour signaler un enfant en danger, envoyez SIGNALER.
sms-expired = Votre conversation a expiré, rien n'a été enregistré. Envoyez SIGNALER pour recommencer, ou AIDE.
sms-language-set = Langue : Francais. Envoyez AIDE pour l'aide.
sms-language-usage = Send LANG EN for English, LANG FR pour francais, LANG RW mu Kinyarwanda.

## Formulaires en un message
sms-usage-report = SIGNALER age F/M souci danger(O/N) [code village] [prénom]
sms-usage-report-help = SIGNALER age F/M souci danger(O/N) [code village] [prénom]. Souci : 1 violence 2 négligence 3 sans parent 4 exploitation 5 école 6 handicap 7 autre. Moins d'1 an : 88. Ex SIGNALER 7 F 2 O
sms-usage-visit = VISITE numéro-de-cas résultat [note]
sms-usage-visit-help = VISITE numéro-de-cas résultat [note]. Résultat : 1 en sécurité 2 pareil 3 pire ou danger 4 famille introuvable. Ex VISITE 34222358 1 Retour à l'école
sms-form-refused = {$field} : {$reason} Envoyez : {$usage}
sms-form-missing = manquant.
sms-form-place = aucun village n'a le code {$code}.
sms-form-place-needed = donnez le code du village.
sms-form-extra = mots en trop : {$extra}.
sms-field-age = Age
sms-field-sex = Fille ou garcon
sms-field-concern = Souci
sms-field-danger = Danger maintenant
sms-field-pick = Village
sms-field-name = Prénom
sms-field-reference = Numéro de cas
sms-field-outcome = Résultat
sms-field-note = Note

## Personnel des centres
sms-help-staff = Kanda personnel : répondez RECU et le numéro du dossier pour accuser réception d'une alerte, ex. RECU 34222358. Les détails sont dans la vue web.
sms-staff-only = Ceci est pour le personnel du centre.
sms-ack-usage = Envoyez RECU et le numéro du dossier, ex. RECU 34222358.
sms-ack-done = Dossier {$reference} : réception notée. Merci. Les détails sont dans la vue web.
sms-ack-already = Le dossier {$reference} était déjà pris en compte.
sms-ack-other-centre = Le dossier {$reference} n'est pas un dossier de votre centre. Rien n'a changé.
sms-ack-not-your-role = Vous pouvez lire les dossiers, pas les changer. Rien n'a changé.

## Alertes au personnel : numéro, urgence, souci et district seulement
sms-alert-new = Kanda : nouveau dossier {$reference}, { $urgent ->
    [yes] URGENT, enfant en danger
   *[other] non urgent
}, {$concern}, {$district}. Répondez RECU {$reference} une fois vu.
sms-alert-escalated = Kanda : le dossier {$reference} ({ $urgent ->
    [yes] URGENT
   *[other] non urgent
}, {$concern}, {$district}) n'est pas pris en compte après {$after}. Agissez svp. Répondez RECU {$reference}.
sms-alert-visit = Kanda URGENT : une visite a trouvé l'enfant du dossier {$reference} en pire état ou en danger ({$district}). Agissez aujourd'hui.
sms-reminder-overdue = Kanda rappel : dossier {$reference} : {$step} est en retard.
sms-step-response = la première réponse
sms-step-assessment = l'évaluation complète
sms-step-plan = le plan de prise en charge
sms-step-review = la revue du plan
sms-step-closure_check = la visite de contrôle après clôture
sms-digest = Kanda, {$centre} : {$count} dossiers en retard : {$references}.
sms-visit-reminder = Kanda : une visite de suivi est due pour le dossier {$reference}. Ensuite, envoyez VISITE {$reference} et le résultat (1-4).
