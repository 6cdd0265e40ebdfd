# USSD screens, English. The reference locale: every other language has the same ids.
# Keep each screen short: 182 characters in GSM-7 (`kanda check` counts them).

## Navigation and errors (shown by the engine on any screen)
nav-back = 0 Back 00 Menu
nav-more = More
error-empty = Nothing was typed.
error-too-long = Too long: at most {$max} characters.
error-choice = Please choose 1 to {$max}.
error-name = Letters only, please.
error-number = Type a number from {$min} to {$max}.
error-reference-check = {$reference} is not a case number. Check each digit.
error-reference-format = A case number has {$digits} digits.
error-reference-unknown = No case {$reference}. Check the number.
error-text = Letters, numbers and spaces only.
error-nav = Type 0 to go back or 00 for the menu.
error-too-many = Too many tries. Please dial again when you are ready. Thank you.
error-internal = Sorry, the service has a problem. Please try again in a few minutes.
error-forbidden = Access denied.

## Case stages
stage-new = new
stage-acknowledged = seen by centre
stage-assessed = assessed
stage-planned = plan made
stage-closed = closed

## Volunteer main menu
main-menu = Kanda child protection
main-report = Report a child
main-visit = Log a follow-up visit
main-my-reports = My recent reports
main-language = Language
my-reports = Your recent reports:
my-reports-item = {$reference} {$stage}
my-reports-none = You have no reports yet.
language-choose = Language?
# "Francais" without its cedilla: ç is outside GSM-7 and would cut this screen to 80 characters.
language-en = English
language-fr = Francais
language-rw = Ikinyarwanda

## Report a child
report-name = Child's first name?
key-skip = Skip
report-age = Child's age in years (1-17)?
age-under-one = Under 1 year
age-unknown = Don't know
report-sex = The child is:
sex-girl = A girl
sex-boy = A boy
report-disability = Does the child have a disability?
answer-yes = Yes
answer-no = No
answer-dont-know = Don't know
report-concern = Main concern?
concern-violence = Violence or abuse
concern-neglect = Neglect
concern-separated = No caregiver or separated
concern-exploitation = Exploitation or child labour
concern-school = Out of school
concern-disability = Disability support needs
concern-other = Other
report-care = Who cares for the child now?
care-parents = Parents
care-relatives = Relatives
care-alone = Alone or child-headed home
care-institution = Children's home
care-street = Lives on the street
care-other = Other
report-danger = Is the child in danger right now?
report-where = Where is the child?
where-own = My village ({$own_village_name})
where-other = Another village
pick-province = Choose the province:
pick-district = Choose the district:
pick-sector = Choose the sector:
pick-village = Choose the village:
report-summary = Check: {$sex_label}, age {$age_label}, {$concern_label}. Danger now: {$danger_label}. {$location_name}.
confirm-send = Send
confirm-cancel = Cancel
report-done = Thank you. { $danger ->
    [yes] The centre is alerted now.
   *[other] The centre has the report.
} Case number: {$reference}. Keep it to log visits.
report-cancelled = Cancelled. Nothing was saved.

## Log a follow-up visit
visit-reference = Case number (8 digits)?
visit-outcome = How is the child?
outcome-safe = Safe or improving
outcome-same = No change
outcome-worse = Worse or new danger
outcome-not-found = Family not found
visit-note = Short note? (at most 100 letters)
key-no-note = No note
visit-done = Visit saved on case {$reference}.{ $outcome ->
    [worse] {" "}The centre is alerted now.
   *[other] {""}
} Thank you.

## Members of the public (phone not registered)
public-welcome = Kanda: help for a child at risk.
public-report = Report a child
public-consent = We ask about the child and place. Only the child protection centre sees it. You may stay anonymous.
consent-agree = I agree
consent-refuse = No, stop
public-identity = Can the centre call you on this number?
identity-share = Yes, they can call me
identity-anonymous = No, stay anonymous
public-summary = Check: {$sex_label}, age {$age_label}, {$concern_label}. Danger now: {$danger_label}. {$location_name}.
public-done = Thank you. { $danger ->
    [yes] The centre is alerted now.
   *[other] The centre has your report.
} Number: {$reference}.
public-declined = Nothing was saved. You can call again at any time.

# A report cut short by a dropped line, offered on the next dial: counts
# only, never an answer (the phone may be shared).
resume-offer = You did not finish your last report.
resume-continue = Continue your unfinished report ({$answered} of {$total} answered)
resume-restart = Start again
