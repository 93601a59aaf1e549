//! How WebKitGTK paints the page when the machine has no GPU.
//!
//! WebKitGTK (2.46 and later) paints page tiles with Skia on the GPU whenever it can create
//! a GL context. Without a GPU, Mesa still hands out a GL context: llvmpipe, which runs the
//! "GPU" on the CPU. Painting then costs CPU time and memory twice over: Skia's GPU caches,
//! shader programs compiled by LLVM and offscreen textures for blurred shadows all live in
//! ordinary memory. Measured on the dashboard under Xvfb (docs/PERFORMANCE.md, desktop
//! section): about 45 MB more in the web process than painting the same page with Skia on
//! the CPU, which looks the same.
//!
//! So when no GPU device is reachable, the app asks WebKit to paint on the CPU
//! (`WEBKIT_SKIA_ENABLE_CPU_RENDERING=1`, the switch WebKit itself documents for this). The
//! compositor is untouched: layers, scrolling and animations still go through it. A GPU is
//! "reachable" when the process can open a DRM render node (`/dev/dri/renderD*`) or the
//! proprietary NVIDIA device (`/dev/nvidia0`); without either, Mesa can only offer software
//! GL. `LIBGL_ALWAYS_SOFTWARE` (set by the user or the session) means the same.
//!
//! What the user sets wins: with `WEBKIT_SKIA_ENABLE_CPU_RENDERING` (for instance `=0` to keep
//! GPU painting) or `WEBKIT_DISABLE_COMPOSITING_MODE` already in the environment, nothing
//! is changed. A GPU that Mesa has no driver for goes undetected and keeps WebKit's default.

use std::ffi::OsString;

/// The variable WebKitGTK reads (in the web process, which inherits our environment).
pub const CPU_PAINTING_VAR: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// What the decision looks at, gathered by [`probe`] (or made up in tests).
#[derive(Debug, Default)]
pub struct Probe {
    /// The user or session already chose how WebKit renders.
    pub user_choice: bool,
    /// `LIBGL_ALWAYS_SOFTWARE` is set to something other than empty, `0` or `false`.
    pub software_gl_forced: bool,
    /// A GPU device node this process can open.
    pub gpu_device: bool,
}

/// Paint on the CPU? Only when the user made no choice and there is no GPU to paint with.
pub fn wants_cpu_painting(p: &Probe) -> bool {
    !p.user_choice && (p.software_gl_forced || !p.gpu_device)
}

fn forced(value: Option<OsString>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// Look at the environment and at `/dev`.
pub fn probe() -> Probe {
    let env = |k: &str| std::env::var_os(k);
    Probe {
        user_choice: env(CPU_PAINTING_VAR).is_some()
            || env("WEBKIT_DISABLE_COMPOSITING_MODE").is_some(),
        software_gl_forced: forced(env("LIBGL_ALWAYS_SOFTWARE")),
        gpu_device: gpu_device_reachable(),
    }
}

fn can_open(path: &std::path::Path) -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .is_ok()
}

fn gpu_device_reachable() -> bool {
    let render_node = std::fs::read_dir("/dev/dri").is_ok_and(|dir| {
        dir.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD") && can_open(&e.path()))
    });
    render_node || can_open(std::path::Path::new("/dev/nvidia0"))
}

/// Apply the decision. Must run before any other thread exists (first thing in `run()`):
/// it changes the process environment, which the web process inherits.
pub fn configure() {
    if !wants_cpu_painting(&probe()) {
        return;
    }
    // `glib::setenv` is `setenv(3)`; nothing else runs yet, so no thread can read the
    // environment at the same time (the reason `std::env::set_var` is unsafe).
    match glib::setenv(CPU_PAINTING_VAR, "1", false) {
        Ok(()) => eprintln!(
            "keyhold-desktop: no GPU found (software GL only): WebKit paints on the CPU ({CPU_PAINTING_VAR}=1)"
        ),
        Err(e) => eprintln!("keyhold-desktop: could not set {CPU_PAINTING_VAR}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_painting_only_without_a_gpu_and_without_a_user_choice() {
        let p = |user_choice, software_gl_forced, gpu_device| Probe {
            user_choice,
            software_gl_forced,
            gpu_device,
        };
        assert!(
            wants_cpu_painting(&p(false, false, false)),
            "no GPU device: software GL"
        );
        assert!(
            wants_cpu_painting(&p(false, true, true)),
            "LIBGL_ALWAYS_SOFTWARE despite a GPU"
        );
        assert!(
            !wants_cpu_painting(&p(false, false, true)),
            "a GPU: WebKit's default"
        );
        assert!(
            !wants_cpu_painting(&p(true, false, false)),
            "the user's choice wins"
        );
        assert!(
            !wants_cpu_painting(&p(true, true, false)),
            "the user's choice wins"
        );
    }

    #[test]
    fn libgl_always_software_values() {
        assert!(forced(Some("1".into())));
        assert!(forced(Some("true".into())));
        assert!(!forced(Some("0".into())));
        assert!(!forced(Some("false".into())));
        assert!(!forced(Some("".into())));
        assert!(!forced(None));
    }
}
