# status: draft, needs review by a native speaker
# Ikinyarwanda: SMS replies. A first draft by the developers, not yet
# reviewed. One SMS is 160 GSM-7 characters: keep them short.

## Words the SMS channel uses instead of the USSD ones
error-too-many-sms = Wagerageje inshuro nyinshi. Ohereza UBUFASHA igihe witeguye. Murakoze.
public-declined-sms = Nta kintu cyabitswe. Mushobora kongera kwandika igihe cyose.

## Commands
sms-help-volunteer = Kanda: ohereza MENYESHA utange amakuru y'umwana, SURA wandike uruzinduko, AMAKURU ubone ayo watanze, LANG EN in English. Vuba: {sms-usage-report}. {sms-usage-visit}. UBUFASHA MENYESHA: kode.
sms-help-public = Kanda kurinda abana: kugira ngo utubwire umwana uri mu kaga, ohereza MENYESHA. Tubaza ibibazo bike; ushobora kutivuga izina.
sms-continue = Cyangwa usubize ikibazo giheruka ukomeze.
sms-volunteers-only = Ibi ni iby'abakorerabushake banditswe. Gutanga amakuru y'umwana uri mu kaga, ohereza MENYESHA.
sms-expired = Ikiganiro cyawe cyarangiye, nta cyabitswe. Ohereza MENYESHA wongere utangire, cyangwa UBUFASHA.
sms-language-set = Ururimi: Ikinyarwanda. Ohereza UBUFASHA ubone ubufasha.
sms-language-usage = Send LANG EN for English, LANG FR pour francais, LANG RW mu Kinyarwanda.

## One-message forms
sms-usage-report = MENYESHA imyaka F/M ikibazo akaga(Y/N) [kode y'umudugudu] [izina]
sms-usage-report-help = MENYESHA imyaka F/M ikibazo akaga(Y/N) [kode y'umudugudu] [izina]. Ikibazo: 1 ihohoterwa 2 kutitabwaho 3 nta murezi 4 gukoreshwa 5 ishuri 6 ubumuga 7 ikindi. Munsi y'umwaka: 88. Urugero MENYESHA 7 F 2 Y
sms-usage-visit = SURA nimero-ya-dosiye uko ameze [icyitonderwa]
sms-usage-visit-help = SURA nimero-ya-dosiye uko ameze [icyitonderwa]. Uko ameze: 1 ameze neza 2 nta gihindutse 3 bibaye bibi 4 umuryango ntiwabonetse. Urugero SURA 34222358 1 Yasubiye ku ishuri
sms-form-refused = {$field}: {$reason} Ohereza: {$usage}
sms-form-missing = ntibirimo.
sms-form-place = nta mudugudu ufite kode {$code}.
sms-form-place-needed = tanga kode y'umudugudu.
sms-form-extra = amagambo arenze: {$extra}.
sms-field-age = Imyaka
sms-field-sex = Umukobwa cyangwa umuhungu
sms-field-concern = Ikibazo
sms-field-danger = Akaga ubu
sms-field-pick = Umudugudu
sms-field-name = Izina
sms-field-reference = Nimero ya dosiye
sms-field-outcome = Uko ameze
sms-field-note = Icyitonderwa

## Centre staff
sms-help-staff = Abakozi ba Kanda: subiza NABONYE na nimero ya dosiye wemeze ko wabonye, urugero NABONYE 34222358. Ibisobanuro biri ku rubuga rw'abakozi.
sms-staff-only = Ibi ni iby'abakozi b'ikigo.
sms-ack-usage = Ohereza NABONYE na nimero ya dosiye, urugero NABONYE 34222358.
sms-ack-done = Dosiye {$reference} yemejwe. Murakoze. Ibisobanuro biri ku rubuga rw'abakozi.
sms-ack-already = Dosiye {$reference} yari yaremejwe.
sms-ack-other-centre = Dosiye {$reference} si iy'ikigo cyanyu. Nta cyahindutse.
sms-ack-not-your-role = Uruhare rwawe ni ukureba dosiye gusa, si ukuzihindura. Nta cyahindutse.

## Alerts to centre staff: the case number, urgency, concern and district only
sms-alert-new = Kanda: dosiye nshya {$reference}, { $urgent ->
    [yes] BYIHUTIRWA, umwana ari mu kaga ubu
   *[other] ntibyihutirwa
}, {$concern}, {$district}. Subiza NABONYE {$reference} umaze kuyibona.
sms-alert-escalated = Kanda: dosiye {$reference} ({ $urgent ->
    [yes] BYIHUTIRWA
   *[other] ntibyihutirwa
}, {$concern}, {$district}) ntiremezwa nyuma ya {$after}. Mukore vuba. Subiza NABONYE {$reference}.
sms-alert-visit = Kanda BYIHUTIRWA: uruzinduko rwasanze umwana wa dosiye {$reference} ameze nabi cyangwa ari mu kaga ({$district}). Mukore uyu munsi.
sms-reminder-overdue = Kanda kwibutsa: dosiye {$reference}: {$step} byaratinze.
sms-step-response = igisubizo cya mbere
sms-step-assessment = isuzuma ryuzuye
sms-step-plan = gahunda y'ubufasha
sms-step-review = isubiramo rya gahunda
sms-step-closure_check = uruzinduko rwo kugenzura nyuma yo gufunga
sms-digest = Kanda, {$centre}: dosiye {$count} zatinze: {$references}.
sms-visit-reminder = Kanda: uruzinduko rwo gukurikirana dosiye {$reference} rurageze. Nyuma yarwo, ohereza SURA {$reference} n'uko ameze (1-4).
