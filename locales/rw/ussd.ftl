# status: draft, needs review by a native speaker
# Ikinyarwanda: USSD screens. Written by the developers as a first draft; not
# yet reviewed. Keep screens short (182 characters, GSM-7).

## Navigation and errors
nav-back = 0 Subira 00 Ahabanza
nav-more = Ibindi
error-empty = Nta cyo wanditse.
error-too-long = Ni birebire: inyuguti {$max} gusa.
error-choice = Hitamo kuva 1 kugeza {$max}.
error-name = Andika inyuguti gusa.
error-number = Andika umubare kuva {$min} kugeza {$max}.
error-reference-check = {$reference} si nimero ya dosiye. Reba buri mubare.
error-reference-format = Nimero ya dosiye igira imibare {$digits}.
error-reference-unknown = Nta dosiye {$reference}. Reba nimero.
error-text = Inyuguti, imibare n'imyanya gusa.
error-nav = Andika 0 usubire inyuma cyangwa 00 ujye ahabanza.
error-too-many = Wagerageje inshuro nyinshi. Uzongere uhamagare. Murakoze.
error-internal = Mutwihanganire, habaye ikibazo. Mwongere mugerageze nyuma y'iminota mike.
error-forbidden = Ntibyemewe.

## Case stages
stage-new = nshya
stage-acknowledged = yabonywe n'ikigo
stage-assessed = yasuzumwe
stage-planned = ifite gahunda
stage-closed = yarafunzwe

## Main menu
main-menu = Kanda: kurengera abana
main-report = Tanga amakuru ku mwana
main-visit = Andika uruzinduko
main-my-reports = Amakuru natanze
main-language = Ururimi
my-reports = Amakuru uheruka gutanga:
my-reports-item = {$reference} {$stage}
my-reports-none = Nta makuru uratanga.
language-choose = Ururimi?
language-en = English
language-fr = Francais
language-rw = Ikinyarwanda

## Report a child
report-name = Izina ry'umwana?
key-skip = Simbuka
report-age = Imyaka y'umwana (1-17)?
age-under-one = Munsi y'umwaka 1
age-unknown = Simbizi
report-sex = Umwana ni:
sex-girl = Umukobwa
sex-boy = Umuhungu
report-disability = Umwana afite ubumuga?
answer-yes = Yego
answer-no = Oya
answer-dont-know = Simbizi
report-concern = Ikibazo nyamukuru?
concern-violence = Ihohoterwa
concern-neglect = Kutitabwaho
concern-separated = Nta murezi afite
concern-exploitation = Gukoreshwa imirimo
concern-school = Ntiyiga
concern-disability = Ubufasha bw'ubumuga
concern-other = Ikindi
report-care = Ubu umwana arerwa na nde?
care-parents = Ababyeyi
care-relatives = Abavandimwe
care-alone = Wenyine / urugo rw'abana
care-institution = Ikigo kirera abana
care-street = Aba mu muhanda
care-other = Ahandi
report-danger = Umwana ari mu kaga ubu?
report-where = Umwana ari he?
where-own = Umudugudu wanjye ({$own_village_name})
where-other = Undi mudugudu
pick-province = Hitamo intara:
pick-district = Hitamo akarere:
pick-sector = Hitamo umurenge:
pick-village = Hitamo umudugudu:
report-summary = Reba: {$sex_label}, imyaka {$age_label}, {$concern_label}. Akaga: {$danger_label}. {$location_name}.
confirm-send = Ohereza
confirm-cancel = Reka
report-done = Murakoze. { $danger ->
    [yes] Ikigo cyamenyeshejwe ubu.
   *[other] Ikigo cyabonye amakuru.
} Nimero ya dosiye: {$reference}. Yibike.
report-cancelled = Byahagaritswe. Nta kintu cyabitswe.

## Log a visit
visit-reference = Nimero ya dosiye (imibare 8)?
visit-outcome = Umwana ameze ate?
outcome-safe = Ameze neza
outcome-same = Nta cyahindutse
outcome-worse = Yarushijeho kuba nabi
outcome-not-found = Umuryango ntubonetse
visit-note = Icyo wongeraho? (inyuguti 100)
key-no-note = Nta cyo
visit-done = Uruzinduko rwanditswe kuri dosiye {$reference}.{ $outcome ->
    [worse] {" "}Ikigo cyamenyeshejwe ubu.
   *[other] {""}
} Murakoze.

## Members of the public
public-welcome = Kanda: ubufasha ku mwana uri mu kaga.
public-report = Tanga amakuru ku mwana
public-consent = Turabaza ibyerekeye umwana n'aho ari. Abakozi b'ikigo gusa ni bo bazabibona. Ushobora kutavuga izina ryawe.
consent-agree = Ndabyemeye
consent-refuse = Oya, hagarara
public-identity = Ikigo gishobora kuguhamagara kuri iyi nimero?
identity-share = Yego, bampamagare
identity-anonymous = Oya, singaragare
public-summary = Reba: {$sex_label}, imyaka {$age_label}, {$concern_label}. Akaga: {$danger_label}. {$location_name}.
public-done = Murakoze. { $danger ->
    [yes] Ikigo cyamenyeshejwe ubu.
   *[other] Ikigo cyabonye amakuru.
} Nimero: {$reference}.
public-declined = Nta kintu cyabitswe. Mushobora kongera guhamagara igihe cyose.

resume-offer = Ntimwarangije raporo iheruka.
resume-continue = Komeza raporo ({$answered} kuri {$total} byasubijwe)
resume-restart = Tangira bundi bushya
