//! QR codes as inline SVG (no image crate, no external request).

use qrcode::QrCode;
use qrcode::render::svg;

/// The SVG markup of a QR code for `data`, or `None` if it is too long for one.
pub fn svg(data: &str) -> Option<String> {
    let code = QrCode::new(data.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

/// A base32 secret in groups of four, for typing into an app by hand.
pub fn group_secret(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_is_grouped_by_four() {
        assert_eq!(super::group_secret("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }

    #[test]
    fn otpauth_uri_renders_as_svg() {
        let svg = super::svg("otpauth://totp/Tessera:alice?secret=JBSWY3DPEHPK3PXP&issuer=Tessera");
        assert!(svg.is_some_and(|s| s.contains("<svg") && s.contains("</svg>")));
    }
}
