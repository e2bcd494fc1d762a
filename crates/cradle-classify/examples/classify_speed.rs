//! Products classified and feature-mapped per second on the built-in model,
//! for a delivery the size of the reference demo (105,000 products with 16
//! attributes each). Run with `cargo run --release -p cradle-classify
//! --example classify_speed`.

use cradle_classify::{EtimModel, Evidence, SourceAttribute, classify, map_features};
use std::time::Instant;

fn main() {
    let model = EtimModel::builtin();
    let nouns = [
        ("Downlight", "Downlight"),
        ("Strahler", "Spotlight"),
        ("Pendelleuchte", "Pendant luminaire"),
        ("Wand-/Deckenleuchte", "Wall/ceiling luminaire"),
        ("Pollerleuchte", "Bollard luminaire"),
        ("LED-Treiber", "LED driver"),
        ("Stromschiene", "Light track"),
    ];
    let headers = [
        ("Leistung [W]", "12,5"),
        ("Spannung [V]", "230"),
        ("Schutzklasse", "II"),
        ("Dimmbar", "ja"),
        ("Dimmart", "DALI-2"),
        ("Lichtstrom [lm]", "1450"),
        ("Farbtemperatur [K]", "3000"),
        ("CRI", "Ra>89"),
        ("Abstrahlwinkel [°]", "36"),
        ("IP-Schutzart", "IP44"),
        ("Nettogewicht [kg]", "1,2"),
        ("Länge [mm]", "300"),
        ("Breite [mm]", "120"),
        ("Höhe [mm]", "80"),
        ("Garantie [Jahre]", "5"),
        ("Gehäusefarbe", "weiß"),
    ];
    let attributes: Vec<SourceAttribute> = headers
        .iter()
        .map(|(name, text)| SourceAttribute {
            name: (*name).to_owned(),
            unit: None,
            text: (*text).to_owned(),
            number: text.replace(',', ".").parse().ok(),
        })
        .collect();
    let neighbours: Vec<(String, f32)> = (0..10)
        .map(|i| (model.classes()[i % 3].code.clone(), 0.8 - i as f32 * 0.02))
        .collect();
    let count = 105_000;
    let start = Instant::now();
    let mut mapped = 0usize;
    for i in 0..count {
        let (de, en) = nouns[i % nouns.len()];
        let name_de = format!("{de} SERIE {i} 12,5 W 3000 K weiß");
        let name_en = format!("{en} SERIES {i} 12.5 W 3000 K white");
        let evidence = Evidence {
            delivered_code: None,
            texts: vec![&name_de, &name_en, "Luxwerk"],
            attributes: &attributes,
            neighbours: &neighbours,
        };
        let class = classify(&model, &evidence).expect("a class");
        mapped += map_features(&model, &class.class, &attributes).len();
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{count} products classified and mapped in {seconds:.2} s: {:.0} products/s, {mapped} features mapped",
        count as f64 / seconds
    );
}
