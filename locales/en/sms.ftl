# SMS replies, English. Each is one message; 160 GSM-7 characters make one
# SMS segment, so keep them short (`kanda check` warns over the segment budget).
# Keywords themselves are in flows/*.toml, beside what they start.

## Words the SMS channel uses instead of the USSD ones
error-too-many-sms = Too many tries. Send HELP when you are ready. Thank you.
public-declined-sms = Nothing was saved. You can write again at any time.

## Commands
sms-help-volunteer = Kanda: send REPORT to report a child, VISIT to log a visit, STATUS for your reports, LANG FR en francais. Fast: {sms-usage-report}. {sms-usage-visit}. HELP REPORT: codes.
sms-help-public = Kanda child protection: to tell us about a child at risk, send REPORT. We ask a few questions; you may stay anonymous. LANG FR: en francais.
sms-continue = Or answer the last question to go on.
sms-volunteers-only = This is for registered volunteers. To report a child at risk, send REPORT.
sms-expired = Your last conversation timed out and nothing was saved. Send REPORT to start again, or HELP.
sms-language-set = Language: English. Send HELP for help.
sms-language-usage = Send LANG EN for English, LANG FR pour francais, LANG RW mu Kinyarwanda.

## One-message forms
sms-usage-report = REPORT age F/M concern danger(Y/N) [village code] [name]
sms-usage-report-help = REPORT age F/M concern danger(Y/N) [village code] [name]. Concern: 1 violence 2 neglect 3 no caregiver 4 exploitation 5 school 6 disability 7 other. Age under 1: 88. Eg REPORT 7 F 2 Y
sms-usage-visit = VISIT case-number outcome [note]
sms-usage-visit-help = VISIT case-number outcome [note]. Outcome: 1 safe 2 no change 3 worse or new danger 4 family not found. Eg VISIT 34222358 1 Back at school
sms-form-refused = {$field}: {$reason} Send: {$usage}
sms-form-missing = missing.
sms-form-place = no village has the code {$code}.
sms-form-place-needed = give the village code.
sms-form-extra = unexpected words: {$extra}.
sms-field-age = Age
sms-field-sex = Girl or boy
sms-field-concern = Concern
sms-field-danger = Danger now
sms-field-pick = Village
sms-field-name = Name
sms-field-reference = Case number
sms-field-outcome = Outcome
sms-field-note = Note

## Centre staff
sms-help-staff = Kanda staff: reply ACK and the case number to acknowledge an alert, e.g. ACK 34222358. Case details are in the staff web view.
sms-staff-only = This is for the centre's staff.
sms-ack-usage = Send ACK and the case number, e.g. ACK 34222358.
sms-ack-done = Case {$reference} acknowledged. Thank you. The details are in the staff web view.
sms-ack-already = Case {$reference} was already acknowledged.
sms-ack-other-centre = Case {$reference} is not a case of your centre. Nothing was changed.
sms-ack-not-your-role = Your role reads cases; it does not change them. Nothing was changed.

## Alerts to centre staff: the case number, urgency, concern and district only
sms-alert-new = Kanda: new case {$reference}, { $urgent ->
    [yes] URGENT, child in danger now
   *[other] not urgent
}, {$concern}, {$district}. Reply ACK {$reference} when you have seen it.
sms-alert-escalated = Kanda: case {$reference} ({ $urgent ->
    [yes] URGENT
   *[other] not urgent
}, {$concern}, {$district}) is not acknowledged after {$after}. Please act. Reply ACK {$reference}.
sms-alert-visit = Kanda URGENT: a visit found the child of case {$reference} worse or in new danger ({$district}). Please act today.
sms-reminder-overdue = Kanda reminder: case {$reference}: {$step} is overdue.
sms-step-response = the first response
sms-step-assessment = the full assessment
sms-step-plan = the case plan
sms-step-review = the plan review
sms-step-closure_check = the check visit after closure
sms-digest = Kanda daily, {$centre}: {$count} cases overdue: {$references}.
sms-visit-reminder = Kanda: a follow-up visit is due for case {$reference}. After it, send VISIT {$reference} and the outcome (1-4).
