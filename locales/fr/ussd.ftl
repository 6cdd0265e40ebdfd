# Écrans USSD, français. Restez dans l'alphabet GSM-7 (é è à ù sont permis ;
# ç ê â î ô û ne le sont pas et réduisent l'écran à 80 caractères :
# d'où « Francais » dans le menu des langues, montré dans toutes les langues).

## Navigation et erreurs
nav-back = 0 Retour 00 Menu
nav-more = Suite
error-empty = Rien n'a été tapé.
error-too-long = Trop long : {$max} caractères au plus.
error-choice = Choisissez de 1 à {$max}.
error-name = Des lettres seulement, merci.
error-number = Tapez un nombre de {$min} à {$max}.
error-reference-check = {$reference} n'est pas un numéro de dossier. Vérifiez chaque chiffre.
error-reference-format = Un numéro de dossier a {$digits} chiffres.
error-reference-unknown = Aucun dossier {$reference}. Vérifiez le numéro.
error-text = Lettres, chiffres et espaces seulement.
error-nav = Tapez 0 pour revenir ou 00 pour le menu.
error-too-many = Trop d'essais. Rappelez plus tard. Merci.
error-internal = Désolé, le service a un problème. Réessayez dans quelques minutes.
error-forbidden = Accès refusé.

## Étapes du dossier
stage-new = nouveau
stage-acknowledged = vu par le centre
stage-assessed = évalué
stage-planned = plan fait
stage-closed = clos

## Menu des bénévoles
main-menu = Kanda protection de l'enfant
main-report = Signaler un enfant
main-visit = Noter une visite de suivi
main-my-reports = Mes signalements récents
main-language = Langue
my-reports = Vos signalements récents :
my-reports-item = {$reference} {$stage}
my-reports-none = Vous n'avez pas encore de signalement.
language-choose = Langue ?
language-en = English
language-fr = Francais
language-rw = Ikinyarwanda

## Signaler un enfant
report-name = Prénom de l'enfant ?
key-skip = Passer
report-age = Age de l'enfant en années (1-17) ?
age-under-one = Moins d'un an
age-unknown = Ne sait pas
report-sex = Sexe de l'enfant :
sex-girl = Féminin
sex-boy = Masculin
report-disability = L'enfant a-t-il un handicap ?
answer-yes = Oui
answer-no = Non
answer-dont-know = Ne sait pas
report-concern = Problème principal ?
concern-violence = Violence ou abus
concern-neglect = Négligence
concern-separated = Sans tuteur ou séparé
concern-exploitation = Exploitation ou travail
concern-school = Hors de l'école
concern-disability = Besoins liés au handicap
concern-other = Autre
report-care = Qui s'occupe de l'enfant ?
care-parents = Parents
care-relatives = Famille
care-alone = Seul ou chef de ménage
care-institution = Centre d'accueil
care-street = Vit dans la rue
care-other = Autre
report-danger = L'enfant est-il en danger maintenant ?
report-where = Où est l'enfant ?
where-own = Mon village ({$own_village_name})
where-other = Un autre village
pick-province = Choisissez la province :
pick-district = Choisissez le district :
pick-sector = Choisissez le secteur :
pick-village = Choisissez le village :
report-summary = Vérifiez : {$sex_label}, age {$age_label}, {$concern_label}. Danger : {$danger_label}. {$location_name}.
confirm-send = Envoyer
confirm-cancel = Annuler
report-done = Merci. { $danger ->
    [yes] Le centre est alerté.
   *[other] Le centre a le signalement.
} Dossier : {$reference}. Gardez ce numéro pour les visites.
report-cancelled = Annulé. Rien n'a été enregistré.

## Noter une visite
visit-reference = Numéro du dossier (8 chiffres) ?
visit-outcome = Comment va l'enfant ?
outcome-safe = En sécurité ou mieux
outcome-same = Pas de changement
outcome-worse = Pire ou nouveau danger
outcome-not-found = Famille introuvable
visit-note = Note courte ? (100 lettres au plus)
key-no-note = Pas de note
visit-done = Visite enregistrée sur le dossier {$reference}.{ $outcome ->
    [worse] {" "}Le centre est alerté.
   *[other] {""}
} Merci.

## Public (numéro non enregistré)
public-welcome = Kanda : aide pour un enfant en danger.
public-report = Signaler un enfant
public-consent = Questions sur l'enfant et le lieu. Seul le centre de protection les verra. Vous pouvez rester anonyme.
consent-agree = J'accepte
consent-refuse = Non, quitter
public-identity = Le centre peut-il vous appeler à ce numéro ?
identity-share = Oui, on peut m'appeler
identity-anonymous = Non, rester anonyme
public-summary = Vérifiez : {$sex_label}, age {$age_label}, {$concern_label}. Danger : {$danger_label}. {$location_name}.
public-done = Merci. { $danger ->
    [yes] Le centre est alerté.
   *[other] Votre signalement est au centre.
} Numéro : {$reference}.
public-declined = Rien n'a été enregistré. Vous pouvez rappeler à tout moment.

# Un signalement coupé par la ligne, proposé à l'appel suivant : des
# nombres seulement, jamais une réponse (le téléphone peut être partagé).
resume-offer = Votre dernier signalement n'est pas fini.
resume-continue = Continuer le signalement ({$answered} sur {$total} réponses)
resume-restart = Recommencer
