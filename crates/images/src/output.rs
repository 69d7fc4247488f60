//! PNG outputs with their generation parameters embedded.

use std::io::Cursor;

/// Encodes an RGB image as PNG with two text chunks: `ddiffusion`, an iTXt
/// chunk holding `parameters` as JSON (UTF-8, so any prompt round-trips), and
/// `parameters`, the one-paragraph summary that AUTOMATIC1111-style tools read.
pub fn encode_png(image: &image::RgbImage, parameters: &serde_json::Value) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(Cursor::new(&mut bytes), image.width(), image.height());
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.add_itxt_chunk("ddiffusion".into(), parameters.to_string())?;
        encoder.add_itxt_chunk("parameters".into(), summary(parameters))?;
        let mut writer = encoder.write_header()?;
        writer.write_image_data(image.as_raw())?;
        writer.finish()?;
    }
    Ok(bytes)
}

/// Formats parameters the way AUTOMATIC1111's web UI writes them:
/// the prompt, a `Negative prompt:` line, then `Key: value` pairs.
fn summary(parameters: &serde_json::Value) -> String {
    let text = |key: &str| {
        parameters
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let value = |key: &str| {
        parameters
            .get(key)
            .map(|v| v.to_string().trim_matches('"').to_owned())
            .unwrap_or_default()
    };
    let mut lines = vec![text("prompt")];
    let negative = text("negative_prompt");
    if !negative.is_empty() {
        lines.push(format!("Negative prompt: {negative}"));
    }
    lines.push(format!(
        "Steps: {}, Sampler: {}, CFG scale: {}, Seed: {}, Size: {}x{}, Model: {}",
        value("steps"),
        value("scheduler"),
        value("guidance_scale"),
        value("seed"),
        value("width"),
        value("height"),
        value("model")
    ));
    lines.join("\n")
}

/// Reads the `ddiffusion` JSON chunk back from a PNG.
pub fn read_parameters(png_bytes: &[u8]) -> Option<serde_json::Value> {
    let decoder = png::Decoder::new(Cursor::new(png_bytes));
    let reader = decoder.read_info().ok()?;
    let chunk = reader
        .info()
        .utf8_text
        .iter()
        .find(|chunk| chunk.keyword == "ddiffusion")?;
    serde_json::from_str(&chunk.get_text().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_round_trip_non_ascii_prompts() {
        let image = image::RgbImage::from_pixel(3, 2, image::Rgb([10, 20, 30]));
        let parameters = serde_json::json!({"prompt": "château sous la neige, 雪の城 🏰", "seed": -5, "steps": 4});
        let bytes = encode_png(&image, &parameters).unwrap();
        assert_eq!(read_parameters(&bytes), Some(parameters));
        let decoded = image::load_from_memory(&bytes).unwrap().to_rgb8();
        assert_eq!(decoded, image);
    }
}
