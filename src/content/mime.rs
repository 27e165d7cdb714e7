//! MIME types by file extension, and the whitelist Android's Object Push receiver applies
//! (anything else it refuses with 0xCF): a campaign that sends an `.apk` reaches nobody.

/// The MIME type for a file name, by extension; `application/octet-stream` when unknown.
pub fn mime_for(name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "vcf" => "text/x-vcard",
        "vcs" => "text/x-vcalendar",
        "ics" => "text/calendar",
        "txt" => "text/plain",
        "htm" | "html" => "text/html",
        "xml" => "text/xml",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "3gp" => "video/3gpp",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "apk" => "application/vnd.android.package-archive",
        _ => "application/octet-stream",
    }
}

/// Whether Android's Bluetooth receiver takes this type (image, video, audio, vCard, vCalendar,
/// plain text, HTML, XML, zip, PDF, Office documents).
pub fn android_accepts(mime: &str) -> bool {
    let prefixes = [
        "image/",
        "video/",
        "audio/",
        "application/vnd.openxmlformats-officedocument.",
    ];
    let exact = [
        "text/x-vcard",
        "text/x-vcalendar",
        "text/calendar",
        "text/plain",
        "text/html",
        "text/xml",
        "application/zip",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
    ];
    prefixes.iter().any(|p| mime.starts_with(p)) || exact.contains(&mime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_extension() {
        assert_eq!(mime_for("Flyer.PDF"), "application/pdf");
        assert_eq!(mime_for("card.vcf"), "text/x-vcard");
        assert_eq!(mime_for("noext"), "application/octet-stream");
        assert!(android_accepts(mime_for("map.png")));
        assert!(!android_accepts(mime_for("app.apk")));
        assert!(!android_accepts(mime_for("noext")));
    }
}
