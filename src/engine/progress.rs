//! How far an unfinished session got into a report: the questions it
//! answered and how many a report asks in all, for the offer to continue
//! it on the next dial. Counts only: the offer shows no answer.

use super::{
    flows::{Action, Kind, StateIdx},
    Backend, Engine, EngineError, Session,
};

/// Questions answered so far, and in all on the longest way through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub answered: usize,
    pub total: usize,
}

impl Engine {
    /// Where `inputs` leave a session, replayed with no effect: `None`
    /// unless it stands on a question of a flow that files something (a
    /// case or a visit) with at least one of that flow's questions answered.
    pub async fn progress<B: Backend>(
        &self,
        session: &Session,
        inputs: &[&str],
        backend: &B,
    ) -> Result<Option<Progress>, EngineError> {
        let start = self.flows.start(session.entry());
        self.progress_from(session, start, inputs, backend).await
    }

    /// The same from the state `start` (an SMS conversation's).
    pub async fn progress_from<B: Backend>(
        &self,
        session: &Session,
        start: StateIdx,
        inputs: &[&str],
        backend: &B,
    ) -> Result<Option<Progress>, EngineError> {
        let mut run = self.new_run(session);
        self.enter(&mut run, start, false, backend).await?;
        for input in inputs {
            if run.ended.is_some() {
                return Ok(None);
            }
            self.answer(&mut run, input.trim(), false, backend).await?;
        }
        let Some(top) = run.stack.last().filter(|_| run.ended.is_none()) else {
            return Ok(None);
        };
        let flow = &self.flows.state(top.state).flow;
        if !self.files_something(top.state) {
            return Ok(None);
        }
        // Each question once (a place drilled down level by level is one),
        // the screen on top not yet answered, the flow's own.
        let mut answered: Vec<StateIdx> = Vec::new();
        for f in &run.stack[..run.stack.len() - 1] {
            let s = self.flows.state(f.state);
            if &s.flow == flow
                && f.state != top.state
                && is_question(&s.kind)
                && !answered.contains(&f.state)
            {
                answered.push(f.state);
            }
        }
        if answered.is_empty() {
            return Ok(None);
        }
        let ahead = self.questions_ahead(top.state, &mut Vec::new());
        Ok(Some(Progress {
            answered: answered.len(),
            total: answered.len() + ahead,
        }))
    }

    /// Whether a way from `from` reaches an action that files a case or a
    /// visit.
    fn files_something(&self, from: StateIdx) -> bool {
        let mut seen = vec![from];
        let mut todo = vec![from];
        while let Some(i) = todo.pop() {
            let s = self.flows.state(i);
            if let Kind::Action { action, .. } = s.kind {
                if matches!(action, Action::CreateCase | Action::LogVisit) {
                    return true;
                }
            }
            for t in s.targets() {
                if !seen.contains(&t) {
                    seen.push(t);
                    todo.push(t);
                }
            }
        }
        false
    }

    /// The most questions on a way from `at` (itself included) to the end
    /// of its flow; a loop back counts once.
    fn questions_ahead(&self, at: StateIdx, path: &mut Vec<StateIdx>) -> usize {
        let s = self.flows.state(at);
        path.push(at);
        let mut best = 0;
        for t in s.targets() {
            if path.contains(&t) || self.flows.state(t).flow != s.flow {
                continue;
            }
            best = best.max(self.questions_ahead(t, path));
        }
        path.pop();
        best + usize::from(is_question(&s.kind))
    }
}

fn is_question(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Menu { .. } | Kind::Input { .. } | Kind::Location { .. }
    )
}
