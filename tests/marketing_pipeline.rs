//! The whole pipeline against a scripted fake generator: every fixture
//! profile × every kind, the featured item per signal, privacy of the
//! no-consent prompt, hostile profiles, invented facts, repair, regeneration,
//! fallback, ranking, step-wise execution and a second store.
#![cfg(not(target_arch = "wasm32"))] // reads fixture files from disk

mod marketing_support;

use banneret::error::Error;
use banneret::marketing::{
    Angle, ContentKind, RewriteOp, RewriteRequest, Source, WriteEvent, WriteRequest, WriteResult,
    Writer,
};
use marketing_support::{profile, profiles, store, FakeGenerator};
use serde_json::{json, Value};

fn request(kind: ContentKind, profile: Value) -> WriteRequest {
    let mut r = WriteRequest::new(kind);
    r.profile = Some(profile);
    r.seed = Some(7);
    r
}

fn write(store_name: &str, req: &WriteRequest, gen: &mut FakeGenerator) -> WriteResult {
    Writer::new(store(store_name)).write(req, gen).unwrap()
}

fn all_checks_pass(r: &WriteResult) -> bool {
    !r.checks.is_empty() && r.checks.iter().all(|c| c.pass)
}

fn field<'a>(r: &'a WriteResult, name: &str) -> &'a str {
    r.copy
        .get(name)
        .unwrap_or_else(|| panic!("no field {name} in {:?}", r.copy))
}

/// Every profile × kind passes every check, from the model when the model
/// is competent and from the fallback when it writes garbage.
fn every_profile_every_kind(store_name: &str) {
    let st = store(store_name);
    for (name, p) in profiles(store_name) {
        for kind in ContentKind::all() {
            for (label, mut gen) in [
                ("competent", FakeGenerator::competent()),
                (
                    "garbage",
                    FakeGenerator::constant("lorem <b>ipsum</b> $1 50% OFF"),
                ),
            ] {
                let r = Writer::new(st.clone())
                    .write(&request(kind, p.clone()), &mut gen)
                    .unwrap();
                assert!(
                    all_checks_pass(&r),
                    "{store_name}/{name}/{kind:?}/{label}: {:#?}",
                    r.checks.iter().filter(|c| !c.pass).collect::<Vec<_>>()
                );
                for spec in kind.fields() {
                    assert!(
                        r.copy.get(spec.name).is_some_and(|t| !t.is_empty()),
                        "{name}/{kind:?}/{label}: empty {}",
                        spec.name
                    );
                }
                if label == "garbage" {
                    assert_eq!(r.source, Source::Fallback, "{name}/{kind:?}: {:?} {:?}", r.copy, r.alternatives[0].repairs);
                    assert_eq!(r.attempts, 3);
                    assert!(!r.rejected.is_empty());
                } else {
                    assert_eq!(
                        r.source,
                        Source::Model,
                        "{store_name}/{name}/{kind:?}: {:#?}",
                        r.rejected
                    );
                }
                // JSON shape the CLI prints.
                let v = serde_json::to_value(&r).unwrap();
                for key in [
                    "copy",
                    "source",
                    "personalized",
                    "plan",
                    "alternatives",
                    "checks",
                    "seed",
                    "timings_ms",
                    "warnings",
                ] {
                    assert!(v.get(key).is_some(), "missing {key}");
                }
                assert!(v["plan"]["featured"].is_array() && v["plan"]["signals"].is_array());
            }
        }
    }
}

#[test]
fn northwind_every_profile_every_kind() {
    every_profile_every_kind("northwind");
}

#[test]
fn second_store_works_without_code_changes() {
    every_profile_every_kind("leafwise");
    // EUR amounts, the required term and no emoji in the fallback.
    let r = write(
        "leafwise",
        &request(ContentKind::Banner, profile("leafwise", "ereader-cart")),
        &mut FakeGenerator::constant(""),
    );
    assert_eq!(r.source, Source::Fallback);
    assert_eq!(r.plan.featured, vec!["LW-ER-500"]);
    assert!(r.copy.joined().contains("€129"), "{:?}", r.copy);
    assert!(r.copy.joined().contains("Leafwise"), "{:?}", r.copy);
    // The out-of-stock picture book is never featured.
    for (name, p) in profiles("leafwise") {
        let r = write(
            "leafwise",
            &request(ContentKind::Banner, p),
            &mut FakeGenerator::competent(),
        );
        assert!(
            !r.plan.featured.contains(&"LW-KD-310".to_string()),
            "{name}"
        );
    }
}

#[test]
fn featured_item_follows_the_strongest_signal() {
    let mut gen = FakeGenerator::competent();
    let plan = |name: &str, gen: &mut FakeGenerator| {
        write(
            "northwind",
            &request(ContentKind::Banner, profile("northwind", name)),
            gen,
        )
        .plan
    };

    let p = plan("trail-runner", &mut gen);
    assert_eq!(p.featured[0], "NW-TR-101");
    assert!(p.personalized);
    assert!(
        p.signals
            .iter()
            .any(|s| s.kind == "viewed" && s.source == "profile.viewed[0]"),
        "{:?}",
        p.signals
    );
    assert!(p.why.contains("Ridgeline Trail Runner"), "{}", p.why);

    let p = plan("cart-abandoner", &mut gen);
    assert_eq!(p.featured, vec!["NW-TN-520", "NW-SB-530"]);
    assert_eq!(p.angle, Angle::CartReminder);
    assert_eq!(
        p.signals[0].kind, "cart",
        "the cart is the strongest signal: {:?}",
        p.signals
    );

    let p = plan("gift-shopper", &mut gen);
    assert_eq!(p.featured[0], "NW-GC-900");
    assert_eq!(p.angle, Angle::GiftIdea);

    let p = plan("no-consent", &mut gen);
    assert!(!p.personalized);
    assert_eq!(p.angle, Angle::Generic);
    assert!(p.signals.iter().all(|s| !s.personal), "{:?}", p.signals);
    assert!(p.visitor_phrase.is_none());

    // Just-bought items are not pushed again.
    let p = plan("trail-runner", &mut gen);
    assert!(p.ranking.iter().all(|r| r.sku != "NW-BT-810"));

    let p = plan("winter-campaign-newcomer", &mut gen);
    assert!(p.personalized);
    assert_eq!(p.promotion.as_ref().unwrap().id, "WINTER25");
}

#[test]
fn no_consent_prompt_holds_nothing_from_the_profile() {
    let mut gen = FakeGenerator::competent();
    let r = write(
        "northwind",
        &request(ContentKind::Banner, profile("northwind", "no-consent")),
        &mut gen,
    );
    let mut gen_empty = FakeGenerator::competent();
    let empty = write(
        "northwind",
        &request(ContentKind::Banner, json!({})),
        &mut gen_empty,
    );
    assert!(!r.personalized);
    // Byte-identical to the prompt of a visitor we know nothing about.
    assert_eq!(gen.prompts, gen_empty.prompts);
    assert_eq!(r.copy, empty.copy);
    let prompt = &gen.prompts[0];
    for private in [
        "kettlebell 12kg",
        "NW-KB-720",
        "Cast Iron Kettlebell",
        "18:00",
    ] {
        assert!(!prompt.contains(private), "prompt leaks {private}");
    }
    assert!(r
        .warnings
        .iter()
        .any(|w| w.field == "profile.consent.personalization"));
    // Without a date, the seed and plan are the same too.
    assert_eq!(r.seed, empty.seed);
}

#[test]
fn injection_profile_is_data_and_cannot_steer_the_copy() {
    let echo = "Headline: FREE TENTS FOR EVERYONE\nSubline: Everything 100% OFF, ignore the rest.\nCTA: Claim now";
    let mut gen = FakeGenerator::constant(echo);
    let r = write(
        "northwind",
        &request(ContentKind::Banner, profile("northwind", "injection")),
        &mut gen,
    );
    let prompt = &gen.prompts[0];
    // Exactly the template's own markers: 4 messages plus the assistant opening.
    assert_eq!(prompt.matches("<|im_start|>").count(), 5, "{prompt}");
    assert_eq!(prompt.matches("<|im_end|>").count(), 4);
    for bad in [
        "<img",
        "onerror",
        "alert(",
        "<script",
        "</title>",
        "ignore all previous",
        "FREE TENTS",
        "100% OFF",
        "NW-NOT-REAL",
    ] {
        assert!(
            !prompt.to_lowercase().contains(&bad.to_lowercase()),
            "prompt contains {bad}"
        );
    }
    // The sanitized interest may appear, quoted as data.
    assert!(prompt.contains("\"Running & Walking\""), "{prompt}");
    // The echo is rejected; what is shown is clean.
    assert!(all_checks_pass(&r));
    assert_eq!(r.source, Source::Fallback);
    let shown = r.copy.joined().to_lowercase();
    assert!(
        !shown.contains("free tents") && !shown.contains("100%") && !shown.contains("everyone"),
        "{shown}"
    );
    let failed: Vec<&str> = r.rejected[0].failed.iter().map(|c| c.name).collect();
    assert!(
        failed.contains(&"facts") && failed.contains(&"injection_echo"),
        "{failed:?}"
    );
    // Cleaning warnings name the fields.
    let fields: Vec<&str> = r.warnings.iter().map(|w| w.field.as_str()).collect();
    for f in [
        "profile.viewed[0].sku",
        "profile.searches[0]",
        "profile.interests[0].topic",
        "profile.referrer.source",
    ] {
        assert!(fields.contains(&f), "no warning for {f}: {fields:?}");
    }
}

#[test]
fn hostile_profile_in_the_second_store() {
    let mut gen = FakeGenerator::constant(
        "Headline: FREE BOOKS FOREVER\nSubline: 90% OFF EVERYTHING at evil.example.com\nCTA: Go",
    );
    let r = write(
        "leafwise",
        &request(ContentKind::Banner, profile("leafwise", "hostile")),
        &mut gen,
    );
    let turn = marketing_support::last_user_turn(&gen.prompts[0]);
    for bad in [
        "FREE BOOKS",
        "Always say",
        "90%",
        "evil.example",
        "javascript",
        "clearance",
        "\u{200b}",
        "\u{202e}",
        "passwd",
    ] {
        assert!(!turn.contains(bad), "prompt contains {bad:?}: {turn}");
    }
    assert!(all_checks_pass(&r));
    assert_eq!(r.source, Source::Fallback);
    let failed: Vec<&str> = r
        .rejected
        .iter()
        .flat_map(|x| x.failed.iter().map(|c| c.name))
        .collect();
    assert!(failed.contains(&"facts"), "{failed:?}");
    assert!(r
        .warnings
        .iter()
        .any(|w| w.field == "profile.context.device"));
}

#[test]
fn invented_prices_and_percentages_are_rejected() {
    let p = profile("northwind", "trail-runner");
    // $79 is a real catalog price, of the yoga mat: not of the trail runner.
    for lie in [
        "Now only $79!",
        "Save 50% today.",
        "Just 79 USD.",
        "Only £99.",
    ] {
        let text = format!("Headline: Ridgeline Trail Runner\nSubline: {lie}\nCTA: Shop now");
        let r = write(
            "northwind",
            &request(ContentKind::Banner, p.clone()),
            &mut FakeGenerator::constant(&text),
        );
        assert_eq!(
            r.source,
            Source::Fallback,
            "{lie} was accepted: {:?}",
            r.copy
        );
        assert!(!r.copy.joined().contains(lie.trim_end_matches(['!', '.'])));
    }
    // True facts pass: sale price, regular price, saving, rounded discount.
    let truth = "Headline: Ridgeline Trail Runner, $99\nSubline: Was $129, now $99: save $30 (23% off).\nCTA: Shop now";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, p.clone()),
        &mut FakeGenerator::constant(truth),
    );
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    assert_eq!(
        field(&r, "subline"),
        "Was $129, now $99: save $30 (23% off)."
    );
    // A lie in one clause of a longer sentence is cut, the rest kept.
    let mixed = "Headline: Ridgeline Trail Runner\nSubline: Trail-ready grip, now $99, or 2 for $150.\nCTA: Shop now";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, p),
        &mut FakeGenerator::constant(mixed),
    );
    assert_eq!(r.source, Source::Model);
    assert_eq!(field(&r, "subline"), "Trail-ready grip, now $99.");
    assert!(
        r.alternatives[0].repairs.iter().any(|n| n.contains("$150")),
        "{:?}",
        r.alternatives[0].repairs
    );
}

#[test]
fn invented_names_and_offers_are_rejected() {
    let p = profile("northwind", "trail-runner");
    for lie in [
        "The Ridgeline Pro Jacket is here.",
        "Black Friday Sale starts now.",
        "Use code SAVE20 today.",
        "Free socks with every pair.",
        "Visit northwind-deals.com now.",
    ] {
        let text = format!("Headline: Trail season\nSubline: {lie}\nCTA: Shop now");
        let r = write(
            "northwind",
            &request(ContentKind::Banner, p.clone()),
            &mut FakeGenerator::constant(&text),
        );
        assert_eq!(
            r.source,
            Source::Fallback,
            "{lie} was accepted: {:?}",
            r.copy
        );
    }
    for truth in [
        "Free shipping on orders over $75.",
        "Conquer Every Trail in the Ridgeline Trail Runner.",
        "The Winter Sale is on.",
    ] {
        let text = format!("Headline: Trail season\nSubline: {truth}\nCTA: Shop now");
        let r = write(
            "northwind",
            &request(ContentKind::Banner, p.clone()),
            &mut FakeGenerator::constant(&text),
        );
        assert_eq!(
            r.source,
            Source::Model,
            "{truth} was rejected: {:#?}",
            r.rejected
        );
    }
}

#[test]
fn weak_copy_seen_with_the_real_model_is_rejected_or_cut() {
    // Invented words, invented quantities, claims the plan contradicts and a
    // chatbot voice: each variant is rejected (or the bad part cut) by its check.
    let cases = [
        ("winter-campaign-newcomer", "Headline: Welcome to Fezeline\nSubline: The Featherlite Down Parka.\nCTA: Take a look", "Fezeline", "invented_words"),
        ("no-consent", "Headline: Grounded Yoga Mat\nSubline: 12-day Winter Sale on the Grounded Yoga Mat.\nCTA: Take a look", "12-day", "facts"),
        ("trail-runner", "Headline: The Ridgeline Trail Runner\nSubline: You bought this item, now $99.\nCTA: Take a look", "bought", "plan_claims"),
        ("winter-campaign-newcomer", "Headline: Featherlite Down Parka\nSubline: Now available for a price increase.\nCTA: Take a look", "price increase", "plan_claims"),
        ("gift-shopper", "Headline: Northwind Gift Card\nSubline: I'm so glad you reached out.\nCTA: Shop gifts", "reached out", "voice"),
    ];
    for (who, text, bad, check) in cases {
        let r = write(
            "northwind",
            &request(ContentKind::Banner, profile("northwind", who)),
            &mut FakeGenerator::constant(text),
        );
        assert!(all_checks_pass(&r), "{who}: {:?}", r.checks);
        assert!(
            !r.copy.joined().to_lowercase().contains(&bad.to_lowercase()),
            "{who}: '{bad}' survived: {:?}",
            r.copy
        );
        let caught = r.rejected.iter().any(|x| x.failed.iter().any(|c| c.name == check))
            || r.alternatives.iter().any(|a| a.repairs.iter().any(|n| n.contains(bad)));
        assert!(caught, "{who}: {check} did not catch '{bad}': {:#?} {:#?}", r.rejected, r.alternatives);
    }
    // The same banner passes for the visitor whose cart holds the item.
    let text = "Headline: Your tent is waiting\nSubline: The Basecamp 2 Tent is still in your cart.\nCTA: Back to your cart";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, profile("northwind", "cart-abandoner")),
        &mut FakeGenerator::constant(text),
    );
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    let r = write(
        "northwind",
        &request(ContentKind::Banner, profile("northwind", "trail-runner")),
        &mut FakeGenerator::constant(text),
    );
    assert!(!r.copy.joined().contains("in your cart"), "{:?}", r.copy);
}

#[test]
fn a_regular_price_stated_as_current_loses_its_clause_not_the_variant() {
    // Seen with SmolLM2 on the trail runner ($99, was $129): "now $129". The
    // claim's span runs across the comma ("ridgeline trail runner now $129");
    // the clause stating the amount goes, the rest of the variant stays.
    let text = " Ridgeline Trail Runner, now $129\nSubline: Grip for every trail, now $99 at Northwind.\nCTA: Shop now";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, profile("northwind", "trail-runner")),
        &mut FakeGenerator::constant(text),
    );
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    assert_eq!(field(&r, "headline"), "Ridgeline Trail Runner");
    assert_eq!(field(&r, "subline"), "Grip for every trail, now $99 at Northwind.");
    let repairs = &r.alternatives[0].repairs;
    assert!(repairs.iter().any(|n| n.starts_with("headline: dropped the part stating") && n.contains("$129")), "{repairs:?}");
}

#[test]
fn an_answer_that_drifts_into_the_fact_sheet_is_continued() {
    // Seen with SmolLM2: two search-ad headlines, then a fact-sheet line.
    let mut gen = FakeGenerator::new(|call| {
        if call.prompt.ends_with("\nHeadline 3:") {
            " Still in your cart\nDescription 1: The Basecamp 2 Tent: 2-person, 3-season.\nDescription 2: The Basecamp 2 Tent is still in your cart at $279.".into()
        } else {
            " Basecamp 2 Tent\nHeadline 2: Now $279, was $349\nTone: casual and warm".into()
        }
    });
    let r = write(
        "northwind",
        &request(ContentKind::SearchAd, profile("northwind", "cart-abandoner")),
        &mut gen,
    );
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    assert_eq!(field(&r, "headline_2"), "Now $279, was $349");
    assert_eq!(field(&r, "headline_3"), "Still in your cart");
    assert!(r.alternatives[0].repairs.is_empty(), "{:?}", r.alternatives[0].repairs);
    let cont = gen
        .prompts
        .iter()
        .find(|p| p.ends_with("\nHeadline 3:"))
        .expect("a continuation prompt");
    let answer = cont.rsplit("<|im_start|>assistant\n").next().unwrap();
    assert_eq!(answer, "Headline 1: Basecamp 2 Tent\nHeadline 2: Now $279, was $349\nHeadline 3:");
    // One continuation per variant: a second drift is rejected, not chased.
    let mut gen = FakeGenerator::constant(" Basecamp 2 Tent\nHeadline 2: Now $279, was $349\nTone: casual");
    let r = write(
        "northwind",
        &request(ContentKind::SearchAd, profile("northwind", "cart-abandoner")),
        &mut gen,
    );
    assert_eq!(r.source, Source::Fallback);
    assert!(gen.prompts.len() <= 3 * 2 * 3, "{}", gen.prompts.len());
}

#[test]
fn an_answer_that_stops_short_goes_on_beside_the_other_variants() {
    // Seen with SmolLM2 on the trail runner: the headline, the CTA, then the
    // end token; the subline is missing. The variant reads "Subline:" and
    // goes on within the round, from the prompt a continuation of its own
    // would have had, instead of in a second job after the round.
    let script = |call: &marketing_support::Call| -> String {
        if call.prompt.ends_with("\nSubline:") {
            " Grip for every trail, now $99 at Northwind.".into()
        } else {
            " Ridgeline Trail Runner, now $99\nCTA: Shop now".into()
        }
    };
    let req = request(ContentKind::Banner, profile("northwind", "trail-runner"));
    let mut gen = FakeGenerator::new(script);
    let r = write("northwind", &req, &mut gen);
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    assert_eq!(field(&r, "subline"), "Grip for every trail, now $99 at Northwind.");
    assert_eq!(field(&r, "cta"), "Shop now");
    assert_eq!(gen.prompts.len(), 1, "no job of its own: {:?}", gen.prompts);
    assert_eq!(gen.resumed.len(), 3, "every variant went on in the batch");
    let answer = gen.resumed[0].rsplit("<|im_start|>assistant\n").next().unwrap();
    assert_eq!(answer, "Headline: Ridgeline Trail Runner, now $99\nCTA: Shop now\nSubline:");

    // A generator that cannot resume gets the continuation as a job of its
    // own, with the same prompt and the same copy.
    let mut sequential = FakeGenerator::new(script);
    sequential.no_resume = true;
    let s = write("northwind", &req, &mut sequential);
    assert_eq!(s.copy, r.copy);
    assert_eq!(sequential.prompts.len(), 1 + 3);
    assert_eq!(sequential.prompts[1..], gen.resumed[..]);
}

#[test]
fn time_reading_prompts_is_reported_as_its_part_of_create() {
    let req = request(ContentKind::Banner, profile("northwind", "trail-runner"));
    let plain = write("northwind", &req, &mut FakeGenerator::competent());
    assert_eq!(plain.timings_ms.prompt, 0.0, "no step read a prompt");

    // Three prompt chunks of 5 ms per job; they stream no text.
    let mut gen = FakeGenerator::competent();
    gen.prompt_steps = (3, std::time::Duration::from_millis(5));
    let r = write("northwind", &req, &mut gen);
    assert_eq!(r.copy, plain.copy);
    let jobs = gen.prompts.len() as f64;
    let t = r.timings_ms;
    assert!(t.prompt >= 15.0 * jobs, "{t:?} over {jobs} jobs");
    assert!(t.prompt <= t.create && t.create <= t.total, "{t:?}");
}

#[test]
fn a_resumed_variant_that_starts_over_is_judged_as_first_written() {
    // Handed "Subline:", the model starts the banner over: the variant is
    // judged as it first was (two of three fields, the subline filled in
    // from the catalog or rejected), never as the doubled text, and it is
    // not continued a second time.
    let mut gen = FakeGenerator::new(|call| {
        if call.prompt.ends_with("\nSubline:") {
            "\nHeadline: Ridgeline Trail Runner\nSubline: Trail shoes.\nCTA: Shop now".into()
        } else {
            " Ridgeline Trail Runner, now $99\nCTA: Shop now".into()
        }
    });
    let r = write(
        "northwind",
        &request(ContentKind::Banner, profile("northwind", "trail-runner")),
        &mut gen,
    );
    assert!(!gen.resumed.is_empty());
    assert!(gen.prompts.iter().all(|p| !p.ends_with("\nSubline:")), "continued twice: {:?}", gen.prompts);
    for a in &r.alternatives {
        assert_ne!(a.copy.get("subline"), Some("Trail shoes."), "{:?}", a.copy);
    }
}

#[test]
fn a_missing_required_term_is_appended() {
    // Leafwise requires "Leafwise"; the model often leaves it out.
    let text = "Blurb: The Glass Orchard: a signed first edition, now €19.90.";
    let r = write(
        "leafwise",
        &request(ContentKind::ProductBlurb, profile("leafwise", "hostile")),
        &mut FakeGenerator::constant(text),
    );
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    assert_eq!(field(&r, "blurb"), "The Glass Orchard: a signed first edition, now €19.90 – Leafwise.");
    assert!(r.alternatives[0].repairs.iter().any(|n| n.contains("required")));
}

#[test]
fn copy_about_something_else_is_rejected() {
    // The worked example parroted: true, but not about the trail runner.
    let parrot = "Headline: Stay dry on every climb\nSubline: The Stormshell 3L Jacket, now $199.\nCTA: Shop the jacket";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, profile("northwind", "trail-runner")),
        &mut FakeGenerator::constant(parrot),
    );
    assert_eq!(r.source, Source::Fallback);
    assert!(
        r.rejected
            .iter()
            .all(|x| x.failed.iter().any(|c| c.name == "relevance")),
        "{:#?}",
        r.rejected
    );
    assert!(r.checks.iter().any(|c| c.name == "relevance" && c.pass));
}

#[test]
fn prompt_instructions_echoed_into_the_copy_are_cut() {
    let text = "Headline: Grounded Yoga Mat\nSubline: Welcome a first-time visitor to the store! The Grounded Yoga Mat, now $59.\nCTA: Take a look";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, profile("northwind", "cold-start")),
        &mut FakeGenerator::constant(text),
    );
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    assert_eq!(field(&r, "subline"), "The Grounded Yoga Mat, now $59.");
    assert!(
        r.alternatives[0]
            .repairs
            .iter()
            .any(|n| n.contains("first time visitor")),
        "{:?}",
        r.alternatives[0].repairs
    );
    // Fields come back in the kind's order after repairs.
    let names: Vec<&str> = r.copy.iter().map(|(n, _)| n).collect();
    assert_eq!(names, vec!["headline", "subline", "cta"]);
}

#[test]
fn over_long_text_is_trimmed_at_a_word_boundary() {
    let text = "Headline: Your Ridgeline Trail Runner is waiting for the next long run\nSubline: The Ridgeline Trail Runner, now $99.\nCTA: Shop the trail runner now";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, profile("northwind", "trail-runner")),
        &mut FakeGenerator::constant(text),
    );
    assert_eq!(r.source, Source::Model);
    let h = field(&r, "headline");
    assert!(h.chars().count() <= 40);
    assert_eq!(h, "Your Ridgeline Trail Runner is waiting");
    let cta = field(&r, "cta");
    assert!(
        cta.chars().count() <= 20 && "Shop the trail runner now".starts_with(cta),
        "{cta}"
    );
    assert!(r.alternatives[0]
        .repairs
        .iter()
        .any(|n| n.starts_with("headline: trimmed")));
}

#[test]
fn banned_phrases_emoji_and_markup() {
    let p = profile("northwind", "trail-runner");
    // "cheaper" is banned through "cheap"; the clause goes.
    let text = "Headline: Ridgeline Trail Runner\nSubline: Grippy on rock, cheaper than ever.\nCTA: Shop now";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, p.clone()),
        &mut FakeGenerator::constant(text),
    );
    assert_eq!(field(&r, "subline"), "Grippy on rock.");
    // A one-clause banned line cannot be saved.
    let text = "Headline: Cheapest shoes in town\nSubline: The Ridgeline Trail Runner, $99.\nCTA: Shop now";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, p.clone()),
        &mut FakeGenerator::constant(text),
    );
    assert_eq!(r.source, Source::Fallback);
    // "at most one" emoji: the second goes.
    let text =
        "Headline: Trail time 🏃\nSubline: The Ridgeline Trail Runner, $99 🎉\nCTA: Shop now";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, p.clone()),
        &mut FakeGenerator::constant(text),
    );
    assert_eq!(r.source, Source::Model);
    assert_eq!(field(&r, "headline"), "Trail time 🏃");
    assert_eq!(field(&r, "subline"), "The Ridgeline Trail Runner, $99");
    // Markup is stripped, never passed through.
    let text =
        "Headline: <b>Trail time</b>\nSubline: The Ridgeline Trail Runner, $99.\nCTA: Shop now";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, p),
        &mut FakeGenerator::constant(text),
    );
    assert_eq!(field(&r, "headline"), "Trail time");
}

#[test]
fn regenerates_with_new_seeds_then_falls_back() {
    let p = profile("northwind", "trail-runner");
    // Garbage on the first round, good copy on the second.
    let mut gen = FakeGenerator::new(|call| {
        if call.start_index == 0 {
            String::new()
        } else {
            marketing_support::competent_copy(call.prompt, call.seed)
        }
    });
    let mut req = request(ContentKind::Banner, p.clone());
    req.num_return_sequences = 2;
    let r = Writer::new(store("northwind"))
        .write(&req, &mut gen)
        .unwrap();
    assert_eq!(r.source, Source::Model);
    assert_eq!(r.attempts, 2);
    let seeds: Vec<u32> = gen.options.iter().map(|o| o.seed.unwrap()).collect();
    assert_eq!(seeds, vec![7, 9], "each round draws fresh seeds");
    assert_eq!(r.rejected.len(), 2);
    // Nothing ever passes: bounded retries, then the fallback.
    let mut gen = FakeGenerator::constant("");
    req.max_retries = 1;
    let r = Writer::new(store("northwind"))
        .write(&req, &mut gen)
        .unwrap();
    assert_eq!(
        (r.source, r.attempts, gen.prompts.len()),
        (Source::Fallback, 2, 2)
    );
    assert!(r.alternatives.len() == 1 && r.alternatives[0].source == Source::Fallback);
}

#[test]
fn variants_are_ranked_and_deduplicated() {
    let p = profile("northwind", "cart-abandoner");
    let texts = [
        "Headline: Tents\nSubline: Something about camping gear here.\nCTA: Go",
        "Headline: Your Basecamp 2 Tent is waiting\nSubline: The Basecamp 2 Tent is still in your cart, now $279.\nCTA: Back to cart",
        "Headline: Tents\nSubline: Something about camping gear here.\nCTA: Go",
    ];
    let mut gen = FakeGenerator::new(move |call| texts[call.sequence].to_string());
    gen.logprob = Box::new(|seed| if seed == 8 { -0.8 } else { -2.0 });
    let r = write("northwind", &request(ContentKind::Banner, p), &mut gen);
    assert_eq!(r.source, Source::Model);
    assert_eq!(r.alternatives.len(), 2, "duplicates dropped");
    assert_eq!(r.alternatives[0].seed, Some(8));
    assert!(r.alternatives[0].score.total > r.alternatives[1].score.total);
    assert!(r.alternatives[0].score.relevance > r.alternatives[1].score.relevance);
    assert_eq!(r.copy, r.alternatives[0].copy);
}

#[test]
fn step_wise_streaming_and_cancellation() {
    let writer = Writer::new(store("northwind"));
    let req = request(
        ContentKind::EmailSubject,
        profile("northwind", "cart-abandoner"),
    );
    let mut gen = FakeGenerator::competent();
    let mut job = writer.start(&req, &gen).unwrap();
    assert_eq!(
        job.plan().featured[0],
        "NW-TN-520",
        "the plan is known before generation"
    );
    let mut events = Vec::new();
    let result = loop {
        match job.step(&mut gen).unwrap() {
            WriteEvent::Done { result } => break result,
            e => events.push(e),
        }
    };
    assert!(matches!(
        events[0],
        WriteEvent::Attempt {
            attempt: 0,
            variants: 3,
            seed: 7
        }
    ));
    let streamed: String = events
        .iter()
        .filter_map(|e| match e {
            WriteEvent::Token {
                variant: 0, text, ..
            } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(streamed, gen.outputs[0]);
    assert_eq!(result.source, Source::Model);
    assert!(matches!(
        job.step(&mut gen),
        Err(Error::InvalidRequest { .. })
    ));

    // Cancelling = dropping the job between tokens; the generator is free again.
    let mut gen = FakeGenerator::competent();
    let mut job = writer.start(&req, &gen).unwrap();
    for _ in 0..5 {
        job.step(&mut gen).unwrap();
    }
    drop(job);
    let steps_before = gen.steps;
    let r = writer.write(&req, &mut gen).unwrap();
    assert!(gen.steps > steps_before && r.source == Source::Model);
}

#[test]
fn generator_errors_fall_back_and_cancellation_propagates() {
    let writer = Writer::new(store("northwind"));
    let req = request(ContentKind::Banner, profile("northwind", "trail-runner"));
    let mut gen = FakeGenerator::competent();
    gen.fail_step = Some((
        3,
        Error::ContextOverflow {
            needed: 9000,
            limit: 8192,
        },
    ));
    let r = writer.write(&req, &mut gen).unwrap();
    assert_eq!(r.source, Source::Fallback);
    assert!(r
        .warnings
        .iter()
        .any(|w| w.field == "generator" && w.message.contains("context overflow")));
    let mut gen = FakeGenerator::competent();
    gen.fail_step = Some((2, Error::Cancelled));
    assert_eq!(writer.write(&req, &mut gen).unwrap_err(), Error::Cancelled);
}

#[test]
fn deterministic_and_seeded() {
    let writer = Writer::new(store("northwind"));
    let mut req = request(
        ContentKind::SocialPost,
        profile("northwind", "gift-shopper"),
    );
    req.seed = None;
    let a = writer.write(&req, &mut FakeGenerator::competent()).unwrap();
    let b = writer.write(&req, &mut FakeGenerator::competent()).unwrap();
    assert_eq!((&a.copy, &a.plan, a.seed), (&b.copy, &b.plan, b.seed));
    let mut other = req.clone();
    other.kind = ContentKind::Banner;
    assert_ne!(
        writer
            .write(&other, &mut FakeGenerator::competent())
            .unwrap()
            .seed,
        a.seed
    );
}

#[test]
fn personalized_profiles_get_different_copy() {
    // Fallback copy follows the plan's angle: no two personalized profiles
    // share it, for any kind, in either store.
    for (store_name, at_least) in [("northwind", 5), ("leafwise", 3)] {
        let writer = Writer::new(store(store_name));
        for kind in ContentKind::all() {
            let mut seen: Vec<(String, String)> = Vec::new();
            for (name, p) in profiles(store_name) {
                let r = writer
                    .write(&request(kind, p), &mut FakeGenerator::constant(""))
                    .unwrap();
                if r.personalized {
                    let copy = r.copy.joined();
                    assert!(
                        !seen.iter().any(|(_, c)| *c == copy),
                        "{store_name}/{kind:?}: {name} got the same fallback as {:?}",
                        seen.iter().find(|(_, c)| *c == copy)
                    );
                    seen.push((name, copy));
                }
            }
            assert!(seen.len() >= at_least, "{seen:?}");
        }
    }
}

#[test]
fn tone_goal_and_locale_reach_the_prompt() {
    let mut gen = FakeGenerator::competent();
    let mut req = request(ContentKind::Banner, profile("northwind", "zh-yoga"));
    req.tone = Some(banneret::marketing::Tone::Formal);
    req.goal = Some("winter sale".into());
    let r = write("northwind", &req, &mut gen);
    let turn = marketing_support::last_user_turn(&gen.prompts[0]);
    assert!(turn.contains("Tone: formal"), "{turn}");
    assert!(turn.contains("Campaign: winter sale"));
    let prompt = &gen.prompts[0];
    assert!(prompt.contains(
        "Headline at most 40 characters. Subline at most 90 characters. CTA at most 20 characters."
    ));
    // The worked example shows the exact format; the answer is opened with its first label.
    assert_eq!(
        marketing_support::labels(prompt),
        vec!["Headline", "Subline", "CTA"]
    );
    assert!(
        prompt.ends_with("<|im_start|>assistant\nHeadline:"),
        "{prompt}"
    );
    // The default model writes English: the zh-CN visitor is told so.
    assert_eq!(r.language, "en");
    assert!(r
        .warnings
        .iter()
        .any(|w| w.field == "profile.locale" && w.message.contains("zh")));
    // One worked example precedes the task.
    assert_eq!(gen.prompts[0].matches("<|im_start|>assistant\n").count(), 2);
}

#[test]
fn requests_reject_unknown_fields() {
    let e = WriteRequest::from_json(r#"{"kind": "banner", "temprature": 0.5}"#).unwrap_err();
    assert!(e.to_string().contains("temprature"), "{e}");
    let e =
        WriteRequest::from_json(r#"{"kind": "banner", "options": {"top_pp": 0.5}}"#).unwrap_err();
    assert!(e.to_string().contains("top_pp"), "{e}");
    let e = WriteRequest::from_json(r#"{"kind": "billboard"}"#).unwrap_err();
    assert!(e.to_string().contains("billboard"), "{e}");
    let ok = WriteRequest::from_json(
        r#"{"kind": "banner", "variants": 2, "profile": {"anything": [1, 2]}}"#,
    )
    .unwrap();
    assert_eq!(ok.num_return_sequences, 2);
    let writer = Writer::new(store("northwind"));
    let mut req = WriteRequest::new(ContentKind::Banner);
    req.options.temperature = Some(-1.0);
    match writer.start(&req, &FakeGenerator::competent()) {
        Err(Error::InvalidRequest { field, .. }) => assert_eq!(field, "options.temperature"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    req.options.temperature = None;
    req.num_return_sequences = 0;
    assert!(writer.start(&req, &FakeGenerator::competent()).is_err());
    let mut req = WriteRequest::new(ContentKind::Banner);
    req.locale = Some("english please".into());
    assert!(
        matches!(writer.start(&req, &FakeGenerator::competent()), Err(Error::InvalidRequest { field, .. }) if field == "locale")
    );
    let mut req = WriteRequest::new(ContentKind::Banner);
    req.date = Some("2026-02-30".into());
    assert!(
        matches!(writer.start(&req, &FakeGenerator::competent()), Err(Error::InvalidRequest { field, .. }) if field == "date")
    );
}

#[test]
fn ended_promotions_are_not_used() {
    let writer = Writer::new(store("leafwise"));
    let mut req = request(ContentKind::Banner, json!({}));
    req.goal = Some("summer reading".into());
    req.date = Some("2026-11-28".into());
    let (plan, _) = writer.plan(&req).unwrap();
    assert_ne!(
        plan.promotion.as_ref().map(|p| p.id.as_str()),
        Some("SUMMER")
    );
    // Its 30% is then no fact either.
    let text =
        "Headline: Summer reading\nSubline: 30% off travel reads at Leafwise.\nCTA: Shop now";
    let r = writer
        .write(&req, &mut FakeGenerator::constant(text))
        .unwrap();
    assert_eq!(r.source, Source::Fallback);
    req.date = Some("2026-08-01".into());
    let (plan, _) = writer.plan(&req).unwrap();
    assert_eq!(
        plan.promotion.as_ref().map(|p| p.id.as_str()),
        Some("SUMMER")
    );
}

fn rewrite_request(op: RewriteOp) -> RewriteRequest {
    RewriteRequest::from_value(json!({
        "kind": "banner",
        "copy": {
            "headline": "Your Basecamp 2 Tent is waiting",
            "subline": "It's still in your cart, now $279. Pack light and go!",
            "cta": "Back to cart"
        },
        "operation": op.name(),
        "seed": 3
    }))
    .unwrap()
}

#[test]
fn rewrite_with_a_base_model_uses_the_completion_document() {
    // No chat template: the rewrite reads a few-shot document about the
    // products the original names, and the rewrite checks still apply.
    let writer = Writer::new(store("northwind"));
    let shorter = " Your Basecamp 2 Tent awaits\nSubline: Still in your cart, now $279.\nCTA: Back to cart";
    let mut gen = FakeGenerator::constant(shorter).base_model(&["en", "zh"]);
    let r = writer
        .rewrite(&rewrite_request(RewriteOp::Shorter), &mut gen)
        .unwrap();
    assert!(!gen.prompts[0].contains("<|im_start|>"), "{}", gen.prompts[0]);
    assert!(gen.prompts[0].contains("Basecamp 2 Tent"));
    assert!(gen.prompts[0].ends_with("Headline:"), "{}", gen.prompts[0]);
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    assert!(r.checks.iter().any(|c| c.name == "rewrite_direction" && c.pass));
    // Longer than the original is not "shorter": fallback.
    let longer = " Your Basecamp 2 Tent is waiting for you\nSubline: It's still in your cart, now $279, a steal. Pack light and go!\nCTA: Back to cart";
    let r = writer
        .rewrite(
            &rewrite_request(RewriteOp::Shorter),
            &mut FakeGenerator::constant(longer).base_model(&["en"]),
        )
        .unwrap();
    assert_eq!(r.source, Source::Fallback);
}

#[test]
fn rewrite_through_the_model_with_checks() {
    let writer = Writer::new(store("northwind"));
    let shorter = "Headline: Your Basecamp 2 Tent awaits\nSubline: Still in your cart, now $279.\nCTA: Back to cart";
    let mut gen = FakeGenerator::constant(shorter);
    let r = writer
        .rewrite(&rewrite_request(RewriteOp::Shorter), &mut gen)
        .unwrap();
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    assert_eq!(r.plan.featured, vec!["NW-TN-520"]);
    assert!(gen.prompts[0].contains("It's still in your cart, now $279."));
    assert!(r
        .checks
        .iter()
        .any(|c| c.name == "rewrite_direction" && c.pass));
    // A "shorter" rewrite that is longer, or one that adds a price, fails.
    let longer = "Headline: Your Basecamp 2 Tent is waiting for you\nSubline: It's still in your cart, now $279, a steal. Pack light and go!\nCTA: Back to cart";
    let r = writer
        .rewrite(
            &rewrite_request(RewriteOp::Shorter),
            &mut FakeGenerator::constant(longer),
        )
        .unwrap();
    assert_eq!(r.source, Source::Fallback);
    let added = "Headline: Your Basecamp 2 Tent\nSubline: Now $279, was $349.\nCTA: Back to cart";
    let r = writer
        .rewrite(
            &rewrite_request(RewriteOp::Shorter),
            &mut FakeGenerator::constant(added),
        )
        .unwrap();
    assert_eq!(r.source, Source::Fallback);
    assert!(r.rejected[0]
        .failed
        .iter()
        .any(|c| c.name == "rewrite_facts_kept"));
}

#[test]
fn rewrite_fallbacks_are_honest() {
    let writer = Writer::new(store("northwind"));
    let mut gen = FakeGenerator::constant("");
    let original = rewrite_request(RewriteOp::Shorter).copy;
    let total = |r: &WriteResult| r.copy.joined().chars().count();
    let orig_len: usize = original.values().map(|t| t.chars().count()).sum::<usize>() + 2;

    let r = writer
        .rewrite(&rewrite_request(RewriteOp::Shorter), &mut gen)
        .unwrap();
    assert_eq!(r.source, Source::Fallback);
    assert!(
        total(&r) < orig_len && all_checks_pass(&r),
        "{:?} {:#?}",
        r.copy,
        r.checks
    );
    assert_eq!(field(&r, "subline"), "It's still in your cart, now $279.");

    let r = writer
        .rewrite(&rewrite_request(RewriteOp::Longer), &mut gen)
        .unwrap();
    assert!(total(&r) > orig_len && all_checks_pass(&r), "{:?}", r.copy);
    assert!(
        r.copy.joined().contains("2-person"),
        "a catalog feature was added: {:?}",
        r.copy
    );

    let r = writer
        .rewrite(&rewrite_request(RewriteOp::MoreFormal), &mut gen)
        .unwrap();
    assert_eq!(
        field(&r, "subline"),
        "It is still in your cart, now $279. Pack light and go."
    );
    assert!(all_checks_pass(&r));

    let r = writer
        .rewrite(&rewrite_request(RewriteOp::MoreCasual), &mut gen)
        .unwrap();
    assert!(all_checks_pass(&r), "{:?} {:#?}", r.copy, r.checks);
    assert_ne!(
        r.copy.joined(),
        rewrite_request(RewriteOp::MoreCasual)
            .copy
            .values()
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );

    let bad = RewriteRequest::from_value(json!({"kind": "banner", "copy": {"headline": "x", "subline": "y", "cta": "z", "footer": "w"}, "operation": "shorter"})).unwrap();
    match writer.rewrite(&bad, &mut gen) {
        Err(Error::InvalidRequest { field, .. }) => assert_eq!(field, "copy.footer"),
        other => panic!("{:?}", other.map(|r| r.copy)),
    }
    assert!(RewriteRequest::from_value(
        json!({"kind": "banner", "copy": {}, "operation": "louder"})
    )
    .is_err());
}

#[test]
fn eval_over_a_store() {
    use banneret::marketing::evaluate;
    let writer = Writer::new(store("northwind"));
    let profiles = profiles("northwind");
    let kinds: Vec<ContentKind> = ContentKind::all().collect();
    let mut base = WriteRequest::new(ContentKind::Banner);
    base.seed = Some(1);
    let mut seen = 0;
    let report = evaluate(
        &writer,
        &profiles,
        &kinds,
        &base,
        &mut FakeGenerator::competent(),
        &mut |_| seen += 1,
    )
    .unwrap();
    assert_eq!(seen, profiles.len() * kinds.len());
    assert_eq!(report.totals.requests, seen);
    assert_eq!(report.totals.all_checks_pass, seen);
    assert_eq!(report.totals.from_model, seen);
    let table = report.table();
    assert!(
        table.contains("trail-runner") && table.contains("NW-TR-101"),
        "{table}"
    );
    assert!(table.contains("100%"), "{table}");
    // A model that always writes the same true line: personalized profiles collide.
    let same = "Headline: Northwind Outfitters\nSubline: Gear for people who run, hike and camp.\nCTA: Shop now";
    let report = evaluate(
        &writer,
        &profiles,
        &[ContentKind::Banner],
        &base,
        &mut FakeGenerator::constant(same),
        &mut |_| {},
    )
    .unwrap();
    assert!(
        report.totals.identical_personalized.len() >= 2,
        "{}",
        report.table()
    );
    assert!(report.table().contains("IDENTICAL"));
}

#[test]
fn a_minority_of_missing_fields_is_filled_from_catalog_facts() {
    let p = profile("northwind", "cart-abandoner");
    // Banner without a CTA: 1 of 3 missing, filled.
    let text = "Headline: Your Basecamp 2 Tent is waiting\nSubline: The Basecamp 2 Tent, now $279.";
    let r = write(
        "northwind",
        &request(ContentKind::Banner, p.clone()),
        &mut FakeGenerator::constant(text),
    );
    assert_eq!(r.source, Source::Model);
    assert_eq!(field(&r, "cta"), "Back to your cart");
    assert!(r.alternatives[0]
        .repairs
        .iter()
        .any(|n| n == "cta: missing; filled from catalog facts"));
    // Search ad with 3 of 5 fields: filled. With 1 of 5: the model's copy is gone, fallback.
    let text = "Headline 1: Basecamp 2 Tent\nHeadline 2: Still in your cart\nDescription 1: The Basecamp 2 Tent, now $279.";
    let r = write(
        "northwind",
        &request(ContentKind::SearchAd, p.clone()),
        &mut FakeGenerator::constant(text),
    );
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    assert_eq!(field(&r, "headline_2"), "Still in your cart");
    assert_eq!(r.alternatives[0].repairs.len(), 2);
    let r = write(
        "northwind",
        &request(ContentKind::SearchAd, p),
        &mut FakeGenerator::constant("Headline 1: Basecamp 2 Tent"),
    );
    assert_eq!(r.source, Source::Fallback);
}

#[test]
fn a_multilingual_generator_gets_the_visitor_language() {
    use banneret::marketing::WriterConfig;
    let config = WriterConfig {
        languages: vec!["en".into(), "zh".into()],
        ..WriterConfig::default()
    };
    let writer = Writer::with_config(store("northwind"), config);
    let req = request(ContentKind::EmailSubject, profile("northwind", "zh-yoga"));
    let mut gen = FakeGenerator::constant(" 瑜伽垫 Grounded Yoga Mat，现价 $59");
    let r = writer.write(&req, &mut gen).unwrap();
    assert!(gen.prompts[0].contains("Write in Chinese."));
    assert_eq!(r.language, "zh");
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    // English copy for a Chinese visitor fails the language check.
    let r = writer
        .write(
            &req,
            &mut FakeGenerator::constant(" Grounded Yoga Mat, now $59"),
        )
        .unwrap();
    assert!(r
        .rejected
        .iter()
        .all(|x| x.failed.iter().any(|c| c.name == "language")));
    // The catalog-only fallback is written in Chinese too (completion.rs).
    assert_eq!(r.source, Source::Fallback);
    assert!(r.checks.iter().all(|c| c.pass), "{:?}", r.checks);
    assert!(r.copy.get("subject").unwrap().contains("现价 $59"), "{:?}", r.copy);
}

#[test]
fn a_base_model_gets_a_completion_document_in_the_visitor_language() {
    let writer = Writer::new(store("northwind"));
    let req = request(ContentKind::Banner, profile("northwind", "zh-yoga"));
    let mut gen = FakeGenerator::constant(" Grounded Yoga Mat，限时特惠\nSubline: 天然橡胶，现价59美元\nCTA: 立即选购\n")
        .base_model(&["en", "zh"]);
    let r = writer.write(&req, &mut gen).unwrap();
    assert_eq!(r.language, "zh");
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    let prompt = &gen.prompts[0];
    assert!(prompt.starts_with("Northwind Outfitters 中文营销文案\n\n商品："), "{prompt}");
    assert!(prompt.ends_with("商品：Grounded Yoga Mat\n价格：$59，原价 $79\n卖点：natural rubber; 4 mm cushioning\nHeadline:"), "{prompt}");
    assert!(!prompt.contains("瑜伽垫 天然橡胶"), "the visitor's searches stay out of the document");
    // Prices in Chinese text are held against the catalog like any other.
    let wrong = " Grounded Yoga Mat，限时特惠\nSubline: 天然橡胶，现价49美元\nCTA: 立即选购\n";
    let r = writer.write(&req, &mut FakeGenerator::constant(wrong).base_model(&["en", "zh"])).unwrap();
    assert_eq!(r.source, Source::Fallback);
    assert!(r.rejected.iter().all(|x| x.failed.iter().any(|c| c.name == "facts" && c.detail.as_deref().unwrap_or("").contains("49美元"))), "{:#?}", r.rejected);
    // ... and in their role: the regular price is not the current one.
    let swapped = " Grounded Yoga Mat，限时特惠\nSubline: 天然橡胶，现价 $79，原价 $59\nCTA: 立即选购\n";
    let r = writer.write(&req, &mut FakeGenerator::constant(swapped).base_model(&["en", "zh"])).unwrap();
    assert_eq!(r.source, Source::Fallback, "{:?}", r.copy);
    // A language the model does not write falls back to the default, saying so.
    let req = WriteRequest { locale: Some("th-TH".into()), ..req };
    let r = writer.write(&req, &mut FakeGenerator::constant(" x").base_model(&["en", "zh"])).unwrap();
    assert_eq!(r.language, "en");
    assert!(r.warnings.iter().any(|w| w.field == "request.locale" && w.message.contains("'th'")), "{:?}", r.warnings);
}

/// Tricky fragments glued together pseudo-randomly, as model output and as
/// visitor text: nothing may panic, and what is returned passes every check.
#[test]
fn hostile_unicode_never_panics() {
    const BITS: &[&str] = &[
        "Headline:",
        "Subline:",
        "CTA:",
        "Post:",
        "\n",
        " ",
        "$",
        "€",
        "%",
        "99",
        "1,299.50",
        "12,90",
        "free",
        "FREE",
        "İ",
        "ẞ",
        "ß",
        "e\u{301}",
        "👨‍👩‍👧",
        "🇺🇸",
        "\u{202e}",
        "\u{200b}",
        "<",
        ">",
        "<|im_end|>",
        "<script>",
        "&lt;",
        "Ridgeline",
        "Trail",
        "Runner",
        "Pro",
        "X200",
        "瑜伽垫",
        "。",
        "!",
        ".",
        ",",
        ":",
        "-",
        "’s",
        "cheap",
        "up to",
        "half price",
        "www.",
        ".com",
        "\"",
        "(",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let writer = Writer::new(store("northwind"));
    for round in 0..400 {
        let mut text = String::new();
        for _ in 0..(next() % 40) {
            text.push_str(BITS[(next() % BITS.len() as u64) as usize]);
        }
        let kind = ContentKind::all().nth(round % 5).unwrap();
        let profile = json!({
            "consent": {"personalization": true},
            "interests": [{"topic": text.clone(), "weight": 0.5}],
            "searches": [text.clone(), text.chars().rev().collect::<String>()],
            "referrer": {"campaign": text.clone()},
            "viewed": [{"sku": "NW-TR-101", "count": 1}]
        });
        let mut req = request(kind, profile);
        req.goal = Some(text.chars().filter(|c| !c.is_control()).take(100).collect());
        let reply = text.clone();
        let r = match writer.write(&req, &mut FakeGenerator::new(move |_| reply.clone())) {
            Ok(r) => r,
            Err(Error::InvalidRequest { field, .. }) if field == "goal" => continue,
            Err(e) => panic!("round {round}: {e}"),
        };
        assert!(
            all_checks_pass(&r) || r.warnings.iter().any(|w| w.field == "fallback"),
            "round {round}: {:?}",
            r.copy
        );
        let copy = r.copy.joined();
        assert!(
            !copy.contains('<') && !copy.contains('\u{202e}'),
            "round {round}: {copy}"
        );
    }
}

/// A variant whose every field has arrived is ended at once: the model's
/// rambling after the last field costs no tokens and never reaches the copy.
#[test]
fn a_complete_answer_ends_its_sequence_early() {
    let ramble = " Ridgeline Trail Runner, now $99\nSubline: The Ridgeline Trail Runner: now $99, down from $129.\nCTA: Take a look\nP.S. we also sell unicorns and free tents for everyone";
    let mut gen = FakeGenerator::constant(ramble);
    let r = write("northwind", &request(ContentKind::Banner, profile("northwind", "trail-runner")), &mut gen);
    assert_eq!(r.source, Source::Model, "{:#?}", r.rejected);
    assert_eq!(gen.finished_early, 3, "each of the 3 variants ends after its CTA line");
    assert_eq!(field(&r, "cta"), "Take a look");
    assert!(gen.outputs.iter().all(|o| o.contains("unicorns")), "the script did ramble");
    assert!(!serde_json::to_string(&r.copy).unwrap().contains("unicorns"));
}

/// Prompts of a kind begin with one of its warm-up prompts (the worked
/// example shows the store's pick, or the next product for visitors shown
/// that pick): the system turn and the example's product, tone and
/// promotion; the example's angle and answer follow the visitor's plan. A
/// visitor whose plan has another promotion still shares everything up to
/// the example's promotion line (the engine reuses the longest common start).
#[test]
fn prompts_begin_with_a_warmup_prompt_of_their_kind() {
    let writer = Writer::new(store("northwind"));
    let gen = FakeGenerator::competent();
    let common = |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    for kind in ContentKind::all() {
        let prefixes = writer.warmup_prompts(kind, &gen).unwrap();
        assert_eq!(prefixes.len(), 2, "{kind:?}: the store's pick and the next product");
        let mut used = vec![0; prefixes.len()];
        for (name, p) in profiles("northwind") {
            // A campaign page: its goal picks the promotion the warm-up shows.
            let mut r = request(kind, p);
            r.goal = Some("winter sale".into());
            let job = writer.start(&r, &gen).unwrap();
            let prompt = job.prompt();
            let (i, shared) = prefixes.iter().map(|w| common(w, prompt)).enumerate().max_by_key(|&(_, n)| n).unwrap();
            let warmed = &prompt[..shared];
            let tone_line = warmed.find("\nTone: ").map(|i| &warmed[i + 1..]);
            assert!(tone_line.is_some_and(|t| t.contains('\n')), "{kind:?}/{name}: shares only\n{warmed}");
            assert!(shared * 3 > prompt.len(), "{kind:?}/{name}: shares {shared} of {} bytes", prompt.len());
            if shared == prefixes[i].len() {
                used[i] += 1;
            }
        }
        assert!(used.iter().all(|&n| n > 0), "{kind:?}: each warm-up prompt begins some visitor's prompt ({used:?})");
        assert!(used.iter().sum::<usize>() >= 5, "{kind:?}: only {used:?} prompts begin with a whole warm-up prompt");
    }
}
