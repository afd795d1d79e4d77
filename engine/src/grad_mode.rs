//! Thread-local grad mode, as in libtorch: a guard, a closure form, and a setter.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Sets grad mode and returns the previous mode.
pub fn set_grad_enabled(enabled: bool) -> bool {
    GRAD_ENABLED.with(|g| g.replace(enabled))
}

/// Restores the previous grad mode when dropped.
#[must_use = "grad mode is restored when the guard is dropped"]
pub struct GradModeGuard {
    prev: bool,
    // Grad mode is per thread, so the guard must not move to another thread.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl GradModeGuard {
    pub fn new(enabled: bool) -> Self {
        GradModeGuard {
            prev: set_grad_enabled(enabled),
            _not_send: std::marker::PhantomData,
        }
    }
}

impl Drop for GradModeGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.prev);
    }
}

/// `with torch.no_grad():` as an RAII guard.
pub fn no_grad() -> GradModeGuard {
    GradModeGuard::new(false)
}

/// `with torch.enable_grad():`
pub fn enable_grad() -> GradModeGuard {
    GradModeGuard::new(true)
}

/// Runs `f` with grad mode off.
pub fn with_no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _g = no_grad();
    f()
}

/// Runs `f` with grad mode set to `enabled`.
pub fn with_grad_mode<R>(enabled: bool, f: impl FnOnce() -> R) -> R {
    let _g = GradModeGuard::new(enabled);
    f()
}
