import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A contiguous fp32 buffer, 64-byte aligned, or a view into another storage.
///
/// A view keeps its parent alive; only the storage that allocated the memory frees it.
public final class Storage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int
    private let parent: Storage?
    /// How the memory was obtained, so that it is given back the same way.
    private let allocation: Allocation

    private enum Allocation {
        case view
        /// From malloc, which returned this address (the pointer is aligned up from it).
        case heap(UnsafeMutableRawPointer)
        /// An anonymous map of this many bytes.
        case mapped(bytes: Int)
    }

    /// Keeps freed tensor buffers in the heap for reuse: by default glibc serves every block over
    /// 128 KiB with a fresh mmap and returns it on free, so each op's output would be page-faulted
    /// in anew (seen as seconds of system time per training run).
    private static let heapReuse: Void = {
        ck_keep_freed_memory()
    }()

    /// Allocations of 64 MiB and more are anonymous memory maps: the kernel zero-fills pages on
    /// first touch, so a buffer that is never written costs no RSS.
    static let mapThreshold = 64 << 20
    static let alignment = 64

    /// Allocates `count` floats, zero-filled.
    public convenience init(count: Int) {
        self.init(count: count, lazilyZeroed: count * MemoryLayout<Float>.stride >= Storage.mapThreshold)
    }

    /// Allocates `count` floats, zero-filled. With `lazilyZeroed` the memory is an anonymous map
    /// whatever its size, so pages never written cost no memory: for long-lived buffers such as a
    /// model's gradients, which a frozen reference model never writes.
    public convenience init(count: Int, lazilyZeroed: Bool) {
        self.init(allocating: count, mapped: lazilyZeroed, zeroFill: true)
    }

    /// Allocates `count` floats that the caller writes, every one, before reading any (op outputs,
    /// scratch): zero-filling them first would be a pass over the memory for nothing.
    convenience init(uninitializedCount count: Int) {
        self.init(allocating: count, mapped: count * MemoryLayout<Float>.stride >= Storage.mapThreshold, zeroFill: false)
    }

    private init(allocating count: Int, mapped: Bool, zeroFill: Bool) {
        _ = Storage.heapReuse
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        if mapped {
            guard let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED else {
                fatalError("TensorCore: cannot map \(bytes) bytes")
            }
            pointer = mapped.bindMemory(to: Float.self, capacity: max(count, 1))
            allocation = .mapped(bytes: bytes)
        } else {
            // malloc and align by hand rather than posix_memalign: glibc's memalign splits a few
            // bytes off the front of each block, small objects settle in those gaps, and freed
            // activations can then no longer merge into holes big enough for the next ones (the
            // heap of `grpo bench grpo-step` peaked at 121 MB this way, 100 MB with malloc).
            guard let base = malloc(bytes + Storage.alignment) else {
                // Out of memory is not recoverable for a trainer; say how much was asked for.
                fatalError("TensorCore: cannot allocate \(bytes) bytes")
            }
            let aligned = (UInt(bitPattern: base) + UInt(Storage.alignment)) & ~UInt(Storage.alignment - 1)
            let raw = UnsafeMutableRawPointer(bitPattern: aligned)!
            if zeroFill { memset(raw, 0, bytes) }
            pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
            allocation = .heap(base)
        }
        parent = nil
    }

    /// A view of `count` floats of `parent` starting at `offset`.
    public init(viewOf parent: Storage, offset: Int, count: Int) {
        precondition(offset >= 0 && offset + count <= parent.count,
                     "Storage view [\(offset), \(offset + count)) outside a buffer of \(parent.count)")
        self.pointer = parent.pointer + offset
        self.count = count
        self.parent = parent
        allocation = .view
    }

    deinit {
        switch allocation {
        case .view: break
        case .heap(let base): free(base)
        case .mapped(let bytes): munmap(pointer, bytes)
        }
    }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    /// Copies `values` in (the counts must match).
    public func assign(_ values: [Float]) {
        precondition(values.count == count, "Storage.assign: \(values.count) values for \(count) floats")
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: count) }
        }
    }

    public func zero() { memset(pointer, 0, count * MemoryLayout<Float>.stride) }
}
