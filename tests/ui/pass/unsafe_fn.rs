use traced::traced;

/// # Safety
/// `pointer` must be valid for reads.
#[traced]
unsafe fn read(pointer: *const u32) -> u32 {
    // SAFETY: the caller guarantees `pointer` is valid.
    unsafe { *pointer }
}

fn main() {
    let value = 5;
    // SAFETY: `value` is alive.
    assert_eq!(unsafe { read(&value) }, 5);
}
