//! RAM and flash use, from cortex-m-rt's linker symbols and its stack paint (feature
//! `paint-stack`: before `main`, every word between the statics and the top of RAM holds
//! `STACK_PAINT_VALUE`; the deepest word the stack ever wrote is the first one that does not).
//!
//! The only unsafe code of the firmware: reading linker symbols' addresses and the painted RAM.
#![allow(unsafe_code)]

use core::ptr::addr_of;
use cortex_m_rt::STACK_PAINT_VALUE;

// Symbols of cortex-m-rt's link.x; only their addresses mean something.
extern "C" {
    static __vector_table: u32;
    static __sdata: u32;
    static __edata: u32;
    static __sidata: u32;
    static _ram_start: u32;
    static _ram_end: u32;
    static _stack_start: u32;
    static _stack_end: u32;
}

/// Bytes of RAM and flash in use.
pub struct Usage {
    /// `.data`, `.bss` and `.uninit`.
    pub statics: usize,
    /// The deepest the stack has been so far.
    pub stack: usize,
    /// All of RAM.
    pub ram: usize,
    /// Vector table, code, read-only data and the initial values of `.data`.
    pub flash: usize,
}

/// Measures the use so far.
pub fn usage() -> Usage {
    // Only the addresses of the linker symbols are taken, never their contents.
    let (ram_start, ram_end) = (addr_of!(_ram_start) as usize, addr_of!(_ram_end) as usize);
    let (stack_start, stack_end) = (addr_of!(_stack_start) as usize, addr_of!(_stack_end) as usize);
    let flash_start = addr_of!(__vector_table) as usize;
    let (data_load, data_start, data_end) =
        (addr_of!(__sidata) as usize, addr_of!(__sdata) as usize, addr_of!(__edata) as usize);
    let mut deepest = stack_start;
    let mut word = stack_end;
    while word < stack_start {
        // SAFETY: `word` is an aligned address between the end of the statics and the top of
        // RAM (link.x asserts both are 4-byte aligned), which nothing else owns: it is the
        // stack region; a volatile read keeps the compiler from assuming its contents.
        if unsafe { core::ptr::read_volatile(word as *const u32) } != STACK_PAINT_VALUE {
            deepest = word;
            break;
        }
        word += 4;
    }
    Usage {
        statics: stack_end - ram_start,
        stack: stack_start - deepest,
        ram: ram_end - ram_start,
        flash: data_load - flash_start + (data_end - data_start),
    }
}
