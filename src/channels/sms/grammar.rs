//! The keywords of every flow, and who may use each.

use crate::engine::{
    flows::{Audience, FlowSet},
    keywords::Keywords,
};

/// The keywords of every flow, each pointing at its `[[sms]]` entry.
#[derive(Debug, Default)]
pub struct Grammar {
    keywords: Keywords<usize>,
}

impl Grammar {
    pub fn new(flows: &FlowSet) -> Self {
        let mut keywords = Keywords::default();
        for (i, entry) in flows.sms.iter().enumerate() {
            for (lang, words) in &entry.words {
                for w in words {
                    keywords.add(w, lang, i);
                }
            }
        }
        Grammar { keywords }
    }

    /// The entry a word names for this audience, and the keyword's
    /// language; `Err(Some(audience))` when it names entries only that
    /// audience may use.
    pub(super) fn find<'g>(
        &'g self,
        flows: &'g FlowSet,
        word: &str,
        typos: bool,
        sender: Senders,
    ) -> Result<(usize, &'g str), Option<Audience>> {
        let hits = self.keywords.find(word, typos);
        let mine: Vec<_> = hits
            .iter()
            .filter(|h| {
                flows.sms[*h.target]
                    .audience
                    .is_none_or(|a| sender.may_use(a))
            })
            .collect();
        match mine.first() {
            // Two different entries one typo away: neither is meant for sure.
            Some(h) if mine.iter().all(|o| o.target == h.target) => Ok((*h.target, h.lang)),
            Some(_) => Err(None),
            None => Err(hits.first().and_then(|h| flows.sms[*h.target].audience)),
        }
    }
}

/// What the sender of a message is registered as.
#[derive(Clone, Copy, Debug)]
pub(super) struct Senders {
    pub(super) volunteer: bool,
    pub(super) staff: bool,
}

impl Senders {
    fn may_use(self, audience: Audience) -> bool {
        match audience {
            Audience::Volunteer => self.volunteer,
            Audience::Public => !self.volunteer,
            Audience::Staff => self.staff,
        }
    }
}
