//! QR codes for TOTP enrollment, rendered three ways: SVG for the desktop app, PNG for
//! anything that wants a bitmap, and Unicode half blocks for the CLI.
//!
//! Every rendering keeps the 4-module quiet zone the QR standard requires; scanners,
//! phone cameras included, are far less reliable without it. Because the enrollment URI
//! carries the TOTP secret, so does its picture: every rendering comes back [`Sensitive`].

use image::{ExtendedColorType, ImageEncoder, Luma};
use qrcode::render::{svg, unicode::Dense1x2};
use qrcode::{EcLevel, QrCode};

use crate::Sensitive;

/// Pixels per module in the PNG: a 41-module code (a typical enrollment URI) comes out at
/// 392 px with its quiet zone, easy for a camera and for `zbarimg`.
pub const MODULE_PX: u32 = 8;
/// The quiet zone, in modules, on every side (QR standard minimum for full-size codes).
pub const QUIET_ZONE_MODULES: u32 = 4;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("the data is too long for a QR code")]
    TooLong,
    #[error("the QR code could not be encoded as PNG")]
    Png,
}

/// Medium error correction: enough for a screen photographed at an angle, while keeping
/// the modules of a ~130-character URI large.
fn encode(data: &str) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M).map_err(|_| QrError::TooLong)
}

/// A standalone SVG document (black on white, `<?xml …?><svg …>`), 8 units per module.
pub fn svg(data: &str) -> Result<Sensitive<String>, QrError> {
    let code = encode(data)?;
    Ok(Sensitive::new(
        code.render::<svg::Color<'_>>()
            .module_dimensions(MODULE_PX, MODULE_PX)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    ))
}

/// An 8-bit greyscale PNG, black on white, [`MODULE_PX`] pixels per module, quiet zone
/// included.
pub fn png(data: &str) -> Result<Sensitive<Vec<u8>>, QrError> {
    let code = encode(data)?;
    let image = code
        .render::<Luma<u8>>()
        .module_dimensions(MODULE_PX, MODULE_PX)
        .dark_color(Luma([0]))
        .light_color(Luma([255]))
        .quiet_zone(true)
        .build();
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            ExtendedColorType::L8,
        )
        .map_err(|_| QrError::Png)?;
    Ok(Sensitive::new(out))
}

/// Unicode half blocks (two modules per character cell, so the code comes out square),
/// for a terminal with light text on a dark background, the usual default. Light modules
/// and the quiet zone are drawn as blocks and dark modules left as background, so the code
/// reads dark-on-light, the way scanners expect. Lines are joined with `\n`, no trailing
/// newline. Use [`unicode_ansi`] when the terminal's colours are not known.
pub fn unicode(data: &str) -> Result<Sensitive<String>, QrError> {
    let code = encode(data)?;
    Ok(Sensitive::new(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    ))
}

/// [`unicode`] with explicit colours (bright white blocks on black) set on every line and
/// reset at its end, so the code is dark-on-light whatever the terminal's theme.
pub fn unicode_ansi(data: &str) -> Result<Sensitive<String>, QrError> {
    let plain = unicode(data)?;
    Ok(Sensitive::new(
        plain
            .expose()
            .lines()
            .map(|line| format!("\x1b[97;40m{line}\x1b[0m"))
            .collect::<Vec<_>>()
            .join("\n"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "otpauth://totp/Keyhold:ada.lovelace%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Keyhold&algorithm=SHA1&digits=6&period=30";

    fn modules(data: &str) -> u32 {
        encode(data).unwrap().width() as u32
    }

    /// Reads a greyscale picture back with an independent decoder.
    fn decode(width: usize, height: usize, pixel: impl FnMut(usize, usize) -> u8) -> String {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(width, height, pixel);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "exactly one QR code");
        grids[0].decode().unwrap().1
    }

    #[test]
    fn png_has_the_expected_size_and_decodes() {
        let bytes = png(URI).unwrap();
        let bytes = bytes.expose();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Png)
            .unwrap()
            .to_luma8();
        let side = (modules(URI) + 2 * QUIET_ZONE_MODULES) * MODULE_PX;
        assert_eq!(img.dimensions(), (side, side));
        assert!(side >= 300, "large enough to scan: {side}");
        // The quiet zone is white all round.
        for i in 0..side {
            for (x, y) in [(i, 0), (0, i), (i, side - 1), (side - 1, i)] {
                assert_eq!(img.get_pixel(x, y).0[0], 255);
            }
        }
        let text = decode(side as usize, side as usize, |x, y| {
            img.get_pixel(x as u32, y as u32).0[0]
        });
        assert_eq!(text, URI);
    }

    #[test]
    fn svg_is_a_document_of_the_right_size() {
        let svg = svg(URI).unwrap();
        let svg = svg.expose();
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        let side = (modules(URI) + 2 * QUIET_ZONE_MODULES) * MODULE_PX;
        assert!(svg.contains(&format!(r#"width="{side}" height="{side}""#)));
        assert!(svg.contains("#000000") && svg.contains("#ffffff"));
    }

    #[test]
    fn unicode_is_square_and_decodes() {
        let text = unicode(URI).unwrap();
        let lines: Vec<&str> = text.expose().lines().collect();
        let side = (modules(URI) + 2 * QUIET_ZONE_MODULES) as usize;
        assert_eq!(lines.len(), side.div_ceil(2));
        for line in &lines {
            assert_eq!(line.chars().count(), side);
        }
        // Rebuild the picture as the terminal shows it: a block is light, a space is the
        // dark background.
        let cells: Vec<Vec<char>> = lines.iter().map(|l| l.chars().collect()).collect();
        let light = |x: usize, y: usize| -> bool {
            match cells[y / 2][x] {
                '█' => true,
                '▀' => y.is_multiple_of(2),
                '▄' => !y.is_multiple_of(2),
                ' ' => false,
                other => panic!("unexpected {other:?}"),
            }
        };
        // The quiet zone's top row is light all the way across.
        assert!((0..side).all(|x| light(x, 0)));
        let scale = 4;
        let decoded = decode(side * scale, side * scale, |x, y| {
            if light(x / scale, y / scale) { 255 } else { 0 }
        });
        assert_eq!(decoded, URI);
    }

    #[test]
    fn unicode_ansi_colours_every_line() {
        let plain = unicode(URI).unwrap();
        let ansi = unicode_ansi(URI).unwrap();
        let lines: Vec<&str> = ansi.expose().lines().collect();
        assert_eq!(lines.len(), plain.expose().lines().count());
        for (coloured, bare) in lines.iter().zip(plain.expose().lines()) {
            assert_eq!(*coloured, format!("\x1b[97;40m{bare}\x1b[0m"));
        }
    }

    #[test]
    fn too_much_data_is_an_error_not_a_panic() {
        let huge = "x".repeat(5000);
        assert_eq!(png(&huge).unwrap_err(), QrError::TooLong);
        assert_eq!(svg(&huge).unwrap_err(), QrError::TooLong);
        assert_eq!(unicode(&huge).unwrap_err(), QrError::TooLong);
    }

    #[test]
    fn debug_hides_the_picture() {
        assert_eq!(format!("{:?}", png(URI).unwrap()), "[redacted]");
        assert_eq!(format!("{:?}", svg(URI).unwrap()), "[redacted]");
    }
}
