//! Evaluation over a store: every profile through every content kind, one
//! row per request (all checks passed?, source, language, featured item,
//! copy), and
//! totals — pass rate, model vs fallback, and personalized profiles that got
//! identical copy. Store-agnostic: what the featured item *should* be is for
//! the reader (or a test) to judge. The CLI's `eval` prints [`EvalReport::table`].

use serde::Serialize;
use serde_json::Value;

use super::job::Writer;
use super::kinds::ContentKind;
use super::request::WriteRequest;
use super::result::{CopyFields, Source, WriteResult};
use crate::error::Result;
use crate::textgen::TextGenerator;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalRow {
    pub profile: String,
    pub kind: ContentKind,
    /// Every check of the returned copy passed.
    pub pass: bool,
    pub source: Source,
    pub personalized: bool,
    /// Language the copy is in (after any fallback to the default).
    pub language: String,
    pub featured: Vec<String>,
    pub angle: super::ideate::Angle,
    pub copy: CopyFields,
    pub attempts: u32,
    /// Model variants rejected by the checks.
    pub rejected: usize,
    /// The checks those variants failed (one count per check name and variant).
    pub rejected_by: Vec<&'static str>,
    pub ms: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EvalTotals {
    pub requests: usize,
    pub all_checks_pass: usize,
    pub from_model: usize,
    pub from_fallback: usize,
    pub rejected_variants: usize,
    /// Rejected variants per failed check, most frequent first.
    pub rejected_by_check: Vec<(&'static str, usize)>,
    /// Pairs of personalized profiles that got the same copy for a kind.
    pub identical_personalized: Vec<(String, String, ContentKind)>,
    pub total_ms: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EvalReport {
    pub rows: Vec<EvalRow>,
    pub totals: EvalTotals,
}

fn row(profile: &str, r: &WriteResult) -> EvalRow {
    EvalRow {
        profile: profile.to_string(),
        kind: r.kind,
        pass: !r.checks.is_empty() && r.checks.iter().all(|c| c.pass),
        source: r.source,
        personalized: r.personalized,
        language: r.language.clone(),
        featured: r.plan.featured.clone(),
        angle: r.plan.angle,
        copy: r.copy.clone(),
        attempts: r.attempts,
        rejected: r.rejected.len(),
        rejected_by: r
            .rejected
            .iter()
            .flat_map(|x| {
                let mut names: Vec<&'static str> = x.failed.iter().map(|c| c.name).collect();
                names.sort_unstable();
                names.dedup();
                names
            })
            .collect(),
        ms: r.timings_ms.total,
    }
}

/// Runs `base` (kind replaced, profile set) for every profile × kind.
/// `on_row` sees each row as it is done (for progress output).
pub fn evaluate<G: TextGenerator>(
    writer: &Writer,
    profiles: &[(String, Value)],
    kinds: &[ContentKind],
    base: &WriteRequest,
    generator: &mut G,
    on_row: &mut dyn FnMut(&EvalRow),
) -> Result<EvalReport> {
    let mut report = EvalReport::default();
    for (name, profile) in profiles {
        for &kind in kinds {
            let mut req = base.clone();
            req.kind = kind;
            req.profile = Some(profile.clone());
            let r = writer.write(&req, generator)?;
            let row = row(name, &r);
            on_row(&row);
            report.rows.push(row);
        }
    }
    let t = &mut report.totals;
    for r in &report.rows {
        t.requests += 1;
        t.all_checks_pass += r.pass as usize;
        match r.source {
            Source::Model => t.from_model += 1,
            Source::Fallback => t.from_fallback += 1,
        }
        t.rejected_variants += r.rejected;
        t.total_ms += r.ms;
        for name in &r.rejected_by {
            match t.rejected_by_check.iter_mut().find(|(n, _)| n == name) {
                Some((_, k)) => *k += 1,
                None => t.rejected_by_check.push((name, 1)),
            }
        }
    }
    t.rejected_by_check
        .sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    for (i, a) in report.rows.iter().enumerate() {
        for b in &report.rows[i + 1..] {
            if a.kind == b.kind
                && a.profile != b.profile
                && a.personalized
                && b.personalized
                && a.copy == b.copy
            {
                t.identical_personalized
                    .push((a.profile.clone(), b.profile.clone(), a.kind));
            }
        }
    }
    Ok(report)
}

impl EvalReport {
    /// A plain-text table: one line per request, then the totals.
    pub fn table(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{:<26} {:<14} {:<5} {:<8} {:<5} {:<4} {:<22} {}\n",
            "profile", "kind", "pass", "source", "pers", "lang", "featured", "copy"
        ));
        for r in &self.rows {
            let copy = r
                .copy
                .iter()
                .map(|(_, t)| t)
                .collect::<Vec<_>>()
                .join(" | ");
            out.push_str(&format!(
                "{:<26} {:<14} {:<5} {:<8} {:<5} {:<4} {:<22} {}\n",
                r.profile,
                r.kind.name(),
                if r.pass { "yes" } else { "NO" },
                match r.source {
                    Source::Model => "model",
                    Source::Fallback => "fallback",
                },
                if r.personalized { "yes" } else { "no" },
                r.language,
                r.featured.join(","),
                copy
            ));
        }
        let t = &self.totals;
        let pct = |n: usize| {
            if t.requests == 0 {
                0.0
            } else {
                100.0 * n as f64 / t.requests as f64
            }
        };
        out.push_str(&format!(
            "\n{} requests: {} pass every check ({:.0}%), {} from the model ({:.0}%), {} fallback; {} model variants rejected; {:.1} s\n",
            t.requests,
            t.all_checks_pass,
            pct(t.all_checks_pass),
            t.from_model,
            pct(t.from_model),
            t.from_fallback,
            t.rejected_variants,
            t.total_ms / 1000.0
        ));
        if !t.rejected_by_check.is_empty() {
            let by: Vec<String> = t
                .rejected_by_check
                .iter()
                .map(|(n, k)| format!("{n} {k}"))
                .collect();
            out.push_str(&format!("rejected variants failed: {}\n", by.join(", ")));
        }
        if t.identical_personalized.is_empty() {
            out.push_str("no two personalized profiles got identical copy\n");
        } else {
            for (a, b, k) in &t.identical_personalized {
                out.push_str(&format!(
                    "IDENTICAL: {a} and {b} got the same {}\n",
                    k.name()
                ));
            }
        }
        out
    }
}
