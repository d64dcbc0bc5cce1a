//! The server binary's allocator: mimalloc for everyday blocks, the system's for large ones.

use std::alloc::{GlobalAlloc, Layout, System};

use mimalloc::MiMalloc;

/// Blocks of this many bytes and more come from the system allocator.
const LARGE: usize = 1 << 20;

/// mimalloc serves the thousands of small blocks a page render allocates from per-thread
/// pages; under glibc's malloc they took about 30 % of a render's CPU. Blocks of 1 MiB and
/// more, such as argon2's 19 MiB for each password check on a blocking thread, go to the
/// system allocator, which maps and unmaps them (see `startup`'s mmap threshold): mimalloc
/// kept them with the idle thread until it exited, and 120 sign-ins left 205 MiB resident
/// for seconds.
pub struct ServerAllocator;

fn is_large(size: usize) -> bool {
    size >= LARGE
}

// SAFETY: each block is freed or resized by the allocator that gave it out, chosen by its
// size, which `GlobalAlloc`'s contract makes the same on allocation and release.
unsafe impl GlobalAlloc for ServerAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller keeps `GlobalAlloc::alloc`'s contract; passed on unchanged.
        unsafe {
            if is_large(layout.size()) {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as `alloc`.
        unsafe {
            if is_large(layout.size()) {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this `layout`, so from the same allocator.
        unsafe {
            if is_large(layout.size()) {
                System.dealloc(ptr, layout)
            } else {
                MiMalloc.dealloc(ptr, layout)
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from `alloc` with `layout`; a block that changes allocator is
        // copied into a new block of the other one, then freed where it came from. The
        // contract guarantees `new_size` is a valid size for `layout.align()`.
        unsafe {
            match (is_large(layout.size()), is_large(new_size)) {
                (false, false) => MiMalloc.realloc(ptr, layout, new_size),
                (true, true) => System.realloc(ptr, layout, new_size),
                _ => {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filled(size: usize, layout_align: usize) -> (*mut u8, Layout) {
        let layout = Layout::from_size_align(size, layout_align).unwrap();
        let ptr = unsafe { ServerAllocator.alloc(layout) };
        assert!(!ptr.is_null());
        for i in 0..size {
            unsafe { ptr.add(i).write((i % 251) as u8) };
        }
        (ptr, layout)
    }

    fn holds_pattern(ptr: *mut u8, size: usize) -> bool {
        (0..size).all(|i| unsafe { ptr.add(i).read() } == (i % 251) as u8)
    }

    #[test]
    fn blocks_keep_their_contents_when_resized_across_the_large_boundary() {
        for (from, to) in [
            (64, LARGE + 4096),
            (LARGE + 4096, 64),
            (LARGE - 1, LARGE),
            (100, 200),
            (LARGE, 2 * LARGE),
        ] {
            let (ptr, layout) = filled(from, 16);
            let moved = unsafe { ServerAllocator.realloc(ptr, layout, to) };
            assert!(!moved.is_null());
            assert_eq!(moved as usize % 16, 0, "alignment kept");
            assert!(holds_pattern(moved, from.min(to)), "{from} -> {to}");
            let resized = Layout::from_size_align(to, 16).unwrap();
            unsafe { ServerAllocator.dealloc(moved, resized) };
        }
    }

    #[test]
    fn zeroed_blocks_are_zero_on_both_sides_of_the_boundary() {
        for size in [32, LARGE + 1] {
            let layout = Layout::from_size_align(size, 64).unwrap();
            let ptr = unsafe { ServerAllocator.alloc_zeroed(layout) };
            assert!(!ptr.is_null());
            assert!((0..size).all(|i| unsafe { ptr.add(i).read() } == 0));
            unsafe { ServerAllocator.dealloc(ptr, layout) };
        }
    }
}
