//! The local backend gives the same vectors as Python sentence-transformers
//! on the same all-MiniLM-L6-v2 files (cosine ≥ 0.999 for every text), and
//! on a tiny random XLM-RoBERTa written by the test (the family of
//! multilingual-e5, whose real weights are no fixture).
//!
//! Needs the model (`scripts/model.sh`, found through `CRADLE_MODEL_DIR` or
//! the default cache folder) and a Python with sentence-transformers
//! (`scripts/embed-venv.sh`, found through `CRADLE_EMBED_PYTHON` or the
//! default venv); `scripts/test.sh` sets up both.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use cradle_embed::{Embedder, LocalEmbedder, LocalOptions, Role, cosine, default_model_dir};

/// Lighting products as a manufacturer delivers them: names, short and
/// long descriptions, tender texts; German and English, with umlauts,
/// units, article numbers and one text longer than the model's 256 tokens.
const TEXTS: [&str; 28] = [
    "LED-Downlight DL-200 weiß, 18 W, 2000 lm, 3000 K, IP44",
    "LED downlight DL-200 white, 18 W, 2000 lm, 3000 K, IP44",
    "Art.-Nr. 4012-0815-00: Einbaustrahler schwenkbar, Ø 85 mm, GU10",
    "Recessed spotlight, adjustable, Ø 85 mm, GU10 socket, article no. 4012-0815-00",
    "Pendelleuchte LUNA Ø 600 mm, opal, DALI dimmbar, 42 W, 4900 lm",
    "Pendant luminaire LUNA Ø 600 mm, opal diffuser, DALI dimmable, 42 W",
    "Feuchtraumwannenleuchte 1500 mm, IP66, IK08, 5200 lm, 840",
    "Damp-proof batten 1500 mm, IP66, IK08, 5200 lm, neutral white 4000 K",
    "Anbauleuchte für Decke und Wand, Aluminium-Druckguss, anthrazit (RAL 7016)",
    "Wall and ceiling luminaire, die-cast aluminium, anthracite grey RAL 7016",
    "LED-Flächenleuchte 620×620 mm, UGR < 19, 33 W, 4000 K, für Rasterdecken",
    "LED panel 620 x 620 mm, UGR < 19, 33 W, 4000 K, for grid ceilings",
    "Strahler für Stromschiene 3-Phasen, 25 W, 36°, CRI > 90, schwarz",
    "Track spotlight for 3-phase track, 25 W, 36° beam, CRI > 90, black",
    "Außenwandleuchte mit Bewegungsmelder, 120° Erfassungswinkel, IP54",
    "Outdoor wall light with motion sensor, 120° detection angle, IP54",
    "Notleuchte Rettungszeichen, Einzelbatterie 3 h, Erkennungsweite 22 m",
    "Emergency exit sign luminaire, self-contained 3 h battery, 22 m viewing distance",
    "Lichtband-Tragschiene 3,0 m, 11-polig, verzinkt — Zubehör für Geräteträger",
    "Continuous-row trunking 3.0 m, 11-pole, galvanised, accessory for gear trays",
    "Hallenstrahler HB-150: 150 W, 21.000 lm, Abstrahlwinkel 90°, 1–10 V",
    "High-bay HB-150: 150 W, 21,000 lm, 90° beam angle, 1-10 V dimming",
    "Möbelaufbauleuchte, flach (8 mm), 12 V DC, Farbtemperatur 2700 K, Länge 300 mm",
    "Straßenleuchte Mastaufsatz Ø 60/76 mm, 4000 K, Lichtstrom 8.900 lm, ÖNORM-konform",
    "Ausschreibungstext: Liefern und montieren von LED-Einbaudownlights mit \
     tiefliegendem Reflektor, Entblendung < 19, Lichtfarbe 3000 K, Farbwiedergabe \
     Ra > 90, Leistung max. 14 W, Lichtstrom mind. 1.400 lm, Betriebsgerät DALI-2 \
     dimmbar, Einbautiefe 95 mm, Deckenausschnitt Ø 150 mm, Gehäuse Aluminium weiß \
     RAL 9016, Schutzart frontseitig IP44, Lebensdauer L80/B10 50.000 h.",
    "Tender text: supply and install LED recessed downlights with deep reflector, \
     glare rating < 19, colour temperature 3000 K, colour rendering Ra > 90, power \
     max. 14 W, luminous flux at least 1,400 lm, DALI-2 dimmable driver, recess \
     depth 95 mm, cut-out Ø 150 mm, white aluminium housing RAL 9016, IP44 from \
     below, lifetime L80/B10 50,000 h.",
    "Ausschreibungstext Langfeldleuchte: Gehäuse aus Stahlblech, pulverbeschichtet \
     weiß, Abdeckung aus PMMA opal, Länge 1.200 mm, Breite 60 mm, Höhe 45 mm, \
     Leistung 28 W, Lichtstrom 3.600 lm, Lichtausbeute 128 lm/W, Farbtemperatur \
     4000 K, Farbwiedergabeindex > 80, Farbtoleranz MacAdam 3, Betriebsgerät \
     EVG nicht dimmbar, Schutzklasse I, Schutzart IP20, Umgebungstemperatur \
     -20 °C bis +40 °C, Montage an Decke oder abgependelt mit Seilabhängung \
     (Zubehör Art.-Nr. 9900-1200-01), Durchgangsverdrahtung 5 × 2,5 mm², \
     Steckklemme für Schnellmontage, Lebensdauer 60.000 h bei L80, \
     Garantie 5 Jahre. Die Leuchte ist für den Einsatz in Büros, Schulen, \
     Fluren und Verkaufsräumen geeignet; Blendbegrenzung nach DIN EN 12464-1, \
     photobiologische Sicherheit RG0 nach EN 62471, EU-Konformität CE, \
     ENEC-geprüft, RoHS-konform. Lieferung einschließlich Leuchtmittel, \
     Betriebsgerät und Montagematerial; Entsorgung der Verpackung durch den \
     Auftragnehmer. Fabrikat und Typ sind vom Bieter anzugeben. Gleichwertige \
     Produkte sind zulässig, sofern sämtliche technischen Werte eingehalten \
     werden und Nachweise (Datenblatt, LDT-/IES-Datei, Prüfberichte) mit dem \
     Angebot eingereicht werden. Ersatzteile müssen mindestens zehn Jahre \
     verfügbar sein.",
    "Ersatz-Treiber 700 mA, 40 W, IP67 — passend für Serie 4012 und 4013",
];

fn model_dir() -> PathBuf {
    let dir = default_model_dir().unwrap_or_else(|| {
        panic!(
            "no embedding model found: set CRADLE_MODEL_DIR or run scripts/model.sh \
             (scripts/test.sh does both)"
        )
    });
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} holds no model.safetensors: run scripts/model.sh (scripts/test.sh does)",
        dir.display()
    );
    dir
}

fn python() -> PathBuf {
    std::env::var_os("CRADLE_EMBED_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/cradle/embed-venv/bin/python"))
        })
        .filter(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no Python with sentence-transformers: run scripts/embed-venv.sh and set \
                 CRADLE_EMBED_PYTHON to the path it prints (scripts/test.sh does both)"
            )
        })
}

fn reference(texts: &[&str]) -> Vec<Vec<f32>> {
    reference_for(&model_dir(), texts)
}

fn reference_for(model: &std::path::Path, texts: &[&str]) -> Vec<Vec<f32>> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference.py");
    let python = python();
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e} (scripts/embed-venv.sh installs it)",
                python.display()
            )
        });
    let request = serde_json::json!({ "model": model, "texts": texts });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{} failed (scripts/embed-venv.sh sets it up):\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn check(options: &LocalOptions, expected: &[Vec<f32>]) {
    let model = LocalEmbedder::open(&model_dir(), options).unwrap();
    assert_eq!(model.info().dimension, 384);
    assert_eq!(model.max_length(), 256);
    let vectors = model.embed(&TEXTS, Role::Passage).unwrap();
    assert_eq!(vectors.len(), expected.len());
    let mut worst = (1.0f32, 0);
    for (i, (ours, theirs)) in vectors.iter().zip(expected).enumerate() {
        let c = cosine(ours, theirs);
        if c < worst.0 {
            worst = (c, i);
        }
    }
    assert!(
        worst.0 >= 0.999,
        "text {} ({:?}): cosine {} with {options:?}",
        worst.1,
        TEXTS[worst.1],
        worst.0
    );
}

#[test]
fn local_backend_matches_sentence_transformers() {
    let expected = reference(&TEXTS);
    // One batch on one thread, and small batches on two threads (other
    // padding, other order): both must match.
    check(
        &LocalOptions {
            batch_size: 32,
            max_length: None,
            threads: Some(1),
        },
        &expected,
    );
    check(
        &LocalOptions {
            batch_size: 5,
            max_length: None,
            threads: Some(2),
        },
        &expected,
    );
}

/// XLM-RoBERTa (the multilingual-e5 family) on a tiny random model:
/// sentence-transformers loads the same files with Hugging Face's own
/// XLM-RoBERTa code, which checks positions, token types and layer names.
#[test]
fn tiny_xlm_roberta_matches_sentence_transformers() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("tiny-xlmr");
    common::write_model(&dir, common::Family::XlmRoberta, "", "mean", 32);
    std::fs::write(
        dir.join("tokenizer_config.json"),
        r#"{"tokenizer_class": "XLMRobertaTokenizerFast", "model_max_length": 32}"#,
    )
    .unwrap();
    let texts = &TEXTS[..24];
    let expected = reference_for(&dir, texts);
    let model = LocalEmbedder::open(&dir, &LocalOptions::default()).unwrap();
    let vectors = model.embed(texts, Role::Passage).unwrap();
    for (i, (ours, theirs)) in vectors.iter().zip(&expected).enumerate() {
        let c = cosine(ours, theirs);
        assert!(c >= 0.999, "text {i} ({:?}): cosine {c}", texts[i]);
    }
}
