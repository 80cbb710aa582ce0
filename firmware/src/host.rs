//! Talking to the host over semihosting: standard output, the exit status, and panics.

use core::fmt::Write;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hio::{self, HostStream};

/// The host's standard output; without one nothing can be reported, so the run stops.
pub fn stdout() -> HostStream {
    match hio::hstdout() {
        Ok(stream) => stream,
        Err(()) => exit(false),
    }
}

/// Ends the program (and qemu) with status 0 when `success`, 1 otherwise.
pub fn exit(success: bool) -> ! {
    debug::exit(if success { EXIT_SUCCESS } else { EXIT_FAILURE });
    // Reached only without a debugger or emulator to take the call.
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    if let Ok(mut stderr) = hio::hstderr() {
        let _ = writeln!(stderr, "panicked: {info}");
    }
    exit(false)
}
