"""The benchmark's 1000 product sentences, German and English, generated
deterministically (the same file on every machine and run).

    python3 bench/embed_sentences.py OUT.txt [COUNT]

One sentence per line: product names, short descriptions and tender-text
fragments of a lighting manufacturer, of mixed lengths (a few words up to
about 200 tokens), with units, umlauts and article numbers.
"""
import random
import sys

KINDS_DE = ["LED-Downlight", "Einbaustrahler", "Pendelleuchte", "Feuchtraumleuchte", "Anbauleuchte",
            "Flächenleuchte", "Stromschienenstrahler", "Außenwandleuchte", "Notleuchte", "Hallenstrahler",
            "Lichtband", "Möbelleuchte", "Straßenleuchte", "Pollerleuchte", "Wandfluter"]
KINDS_EN = ["LED downlight", "recessed spotlight", "pendant luminaire", "damp-proof luminaire",
            "surface-mounted luminaire", "LED panel", "track spotlight", "outdoor wall light",
            "emergency luminaire", "high-bay luminaire", "continuous-row system", "furniture light",
            "street light", "bollard light", "wall washer"]
FEATURES_DE = ["dimmbar über DALI-2", "mit Bewegungsmelder", "schwenkbar um 30°", "entblendet (UGR < 19)",
               "für Rasterdecken", "mit Notlichtfunktion 3 h", "Gehäuse Aluminium-Druckguss",
               "Abdeckung PMMA opal", "Schutzklasse II", "mit Tageslichtsensor", "Farbwiedergabe Ra > 90",
               "werkzeuglose Montage", "Durchgangsverdrahtung 5 × 2,5 mm²", "für Außenbereiche geeignet"]
FEATURES_EN = ["DALI-2 dimmable", "with motion sensor", "tiltable by 30°", "low glare (UGR < 19)",
               "for grid ceilings", "with 3 h emergency function", "die-cast aluminium housing",
               "opal PMMA diffuser", "protection class II", "with daylight sensor", "colour rendering Ra > 90",
               "tool-free installation", "through-wiring 5 × 2.5 mm²", "suitable for outdoor use"]
COLOURS = ["weiß (RAL 9016)", "schwarz (RAL 9005)", "anthrazit (RAL 7016)", "silber", "white", "black", "grey"]
TENDER_DE = ("Ausschreibungstext: Liefern und montieren von {kind} {feat1}, {feat2}, Leistung {w} W, "
             "Lichtstrom mind. {lm} lm, Lichtfarbe {k} K, Schutzart IP{ip}, Gehäusefarbe {col}. "
             "Betriebsgerät und Leuchtmittel sind im Lieferumfang enthalten; die Leuchte ist nach "
             "DIN EN 60598 geprüft, Lebensdauer L80/B10 {life} h, Garantie {years} Jahre. "
             "Fabrikat und Typ sind vom Bieter anzugeben, gleichwertige Produkte sind zulässig, sofern "
             "sämtliche technischen Werte eingehalten und Datenblatt sowie LDT-Datei beigefügt werden.")
TENDER_EN = ("Tender text: supply and install {kind}, {feat1}, {feat2}, power {w} W, luminous flux at "
             "least {lm} lm, colour temperature {k} K, protection IP{ip}, housing colour {col}. Driver "
             "and light source included; tested to EN 60598, lifetime L80/B10 {life} h, warranty "
             "{years} years. Bidders state make and type; equivalent products are accepted where all "
             "technical values are met and a datasheet and photometric file are enclosed.")


def sentence(rng: random.Random) -> str:
    german = rng.random() < 0.6
    kinds, feats = (KINDS_DE, FEATURES_DE) if german else (KINDS_EN, FEATURES_EN)
    values = dict(
        kind=rng.choice(kinds), feat1=rng.choice(feats), feat2=rng.choice(feats),
        w=rng.choice([6, 9, 12, 14, 18, 24, 28, 33, 42, 60, 150]), lm=rng.randrange(400, 21000, 100),
        k=rng.choice([2700, 3000, 3500, 4000, 5000, 6500]), ip=rng.choice([20, 40, 44, 54, 65, 66, 67]),
        col=rng.choice(COLOURS), life=rng.choice(["50.000", "60.000", "100.000"]) if german
        else rng.choice(["50,000", "60,000", "100,000"]), years=rng.choice([3, 5, 10]),
        art=f"{rng.randrange(1000, 9999)}-{rng.randrange(0, 9999):04d}-{rng.randrange(0, 99):02d}",
    )
    shape = rng.random()
    if shape < 0.35:
        return "{kind} {w} W, {k} K, IP{ip}, Art.-Nr. {art}".format(**values) if german else \
            "{kind} {w} W, {k} K, IP{ip}, article no. {art}".format(**values)
    if shape < 0.75:
        return ("{kind}, {feat1}, {feat2}; {w} W, {lm} lm, {k} K, IP{ip}, Farbe {col}, Art.-Nr. {art}"
                if german else
                "{kind}, {feat1}, {feat2}; {w} W, {lm} lm, {k} K, IP{ip}, colour {col}, article no. {art}"
                ).format(**values)
    return (TENDER_DE if german else TENDER_EN).format(**values)


def main() -> None:
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rng = random.Random(20261129)
    with open(out, "w", encoding="utf-8") as f:
        for _ in range(count):
            f.write(sentence(rng) + "\n")


if __name__ == "__main__":
    main()
