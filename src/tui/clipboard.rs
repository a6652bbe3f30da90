//! Copy to the clipboard: the system clipboard through arboard when there is a display, OSC 52
//! otherwise (over SSH, in a bare console, inside tmux with `set-clipboard on`).

use std::io::Write;

use base64::Engine;

pub enum Copied {
    System,
    Osc52,
}

/// The OSC 52 escape that asks the terminal to set its clipboard.
pub fn osc52(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07")
}

pub fn copy(text: &str) -> Result<Copied, String> {
    let over_ssh =
        std::env::var_os("SSH_CONNECTION").is_some() || std::env::var_os("SSH_TTY").is_some();
    let has_display =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !over_ssh
        && (has_display || cfg!(any(target_os = "macos", windows)))
        && let Ok(mut cb) = arboard::Clipboard::new()
        && cb.set_text(text.to_string()).is_ok()
    {
        return Ok(Copied::System);
    }
    let mut out = std::io::stdout();
    out.write_all(osc52(text).as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| format!("cannot write to the terminal: {e}"))?;
    Ok(Copied::Osc52)
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_encodes() {
        assert_eq!(super::osc52("hi"), "\x1b]52;c;aGk=\x07");
    }
}
