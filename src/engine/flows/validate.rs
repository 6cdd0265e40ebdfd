//! Checks of the whole graph once every state is read: states no entry
//! reaches, actions whose variables no earlier state sets, forms whose
//! action needs a variable no field sets.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::{FlowSet, Kind, SmsTarget, StateIdx};
use crate::text::source::Problem;

impl FlowSet {
    /// A form's `submit` action reads only what the form's fields set.
    pub(super) fn check_forms(&self, problems: &mut Vec<Problem>) {
        for entry in &self.sms {
            let SmsTarget::Conversation {
                form: Some(form), ..
            } = &entry.target
            else {
                continue;
            };
            let set: BTreeSet<String> = form
                .fields
                .iter()
                .flat_map(|f| self.state(f.state).sets())
                .collect();
            if let Kind::Action { action, .. } = &self.state(form.submit).kind {
                for need in action.needs() {
                    if !set.contains(*need) {
                        problems.push(Problem {
                            file: entry.file.clone(),
                            line: entry.line,
                            message: format!(
                                "sms form: `{}` needs `{need}`, which no field of the form sets",
                                self.state(form.submit).name
                            ),
                            warning: false,
                        });
                    }
                }
            }
        }
    }

    /// Unreachable states, and actions whose variables no earlier state sets.
    pub(super) fn check_graph(&self, problems: &mut Vec<Problem>) {
        let mut seen = BTreeSet::new();
        // Variables that may be set on some path to each state.
        let mut set_before: BTreeMap<StateIdx, BTreeSet<String>> = BTreeMap::new();
        let mut queue = VecDeque::new();
        let ctx_vars: BTreeSet<String> = ["own_village", "own_village_name"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for start in [self.volunteer_start, self.public_start] {
            queue.push_back((start, ctx_vars.clone()));
        }
        while let Some((i, vars)) = queue.pop_front() {
            let known = set_before.entry(i).or_default();
            let grew = vars.iter().any(|v| !known.contains(v));
            known.extend(vars.iter().cloned());
            if !seen.insert(i) && !grew {
                continue;
            }
            let state = self.state(i);
            let mut after = known.clone();
            after.extend(state.sets());
            for t in state.targets() {
                queue.push_back((t, after.clone()));
            }
        }
        for (n, state) in self.states.iter().enumerate() {
            let problem = |message: String| Problem {
                file: state.file.clone(),
                line: state.line,
                message,
                warning: false,
            };
            if !seen.contains(&StateIdx(n)) {
                problems.push(problem(format!(
                    "state `{}` cannot be reached from any entry",
                    state.name
                )));
                continue;
            }
            if let Kind::Action { action, .. } = &state.kind {
                let known = &set_before[&StateIdx(n)];
                for need in action.needs() {
                    if !known.contains(*need) {
                        problems.push(problem(format!(
                            "action needs `{need}`, which no state before it sets"
                        )));
                    }
                }
            }
        }
    }
}
