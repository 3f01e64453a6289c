// swift-tools-version:6.0
import PackageDescription

/// swift-grpo: GRPO training for language models on the CPU, in Swift.
/// Modules follow docs/DESIGN.md: one-way dependencies, each named after its job.
let package = Package(
    name: "swift-grpo",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "grpo", targets: ["grpo"]),
        .library(name: "TensorCore", targets: ["TensorCore"]),
        .library(name: "Tokenization", targets: ["Tokenization"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // BLAS: OpenBLAS's cblas.h on Linux (Debian libopenblas-dev); Accelerate on macOS.
        .systemLibrary(
            name: "CBLAS",
            path: "Sources/CBLAS",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Small C kernels that need a wider ISA than Swift's baseline x86-64 target, compiled
        // per function with target attributes and chosen at run time by CPU detection.
        .target(name: "CKernels", path: "Sources/CKernels"),
        // MPI (Open MPI from Debian's libopenmpi-dev; MPICH works too), found through pkg-config's
        // "mpi"; shim.h turns Open MPI's handle macros into functions Swift can call.
        .systemLibrary(
            name: "CMPI",
            path: "Sources/CMPI",
            pkgConfig: "mpi",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        // The collectives of data-parallel training: MPI's world under mpirun, one rank otherwise.
        .target(name: "Collectives", dependencies: ["CMPI"]),
        .target(
            name: "TensorCore",
            dependencies: [
                .target(name: "CBLAS", condition: .when(platforms: [.linux])),
                "CKernels",
            ],
            linkerSettings: [.linkedFramework("Accelerate", .when(platforms: [.macOS]))]
        ),
        .target(name: "ModelIO", dependencies: ["TensorCore", "CKernels"]),
        .target(name: "Transformer", dependencies: ["TensorCore", "ModelIO"]),
        .target(name: "Generation", dependencies: ["TensorCore", "Transformer"]),
        .target(name: "Tracking"),
        .target(name: "Training",
                dependencies: ["CKernels", "TensorCore", "ModelIO", "Transformer", "Generation", "Tasks", "Rewards", "Tokenization", "Evaluation",
                               "Tracking", "Collectives"]),
        .target(name: "Evaluation", dependencies: ["TensorCore", "Transformer", "Generation", "Tasks"]),
        .target(name: "TestSupport", dependencies: ["TensorCore"]),
        .target(name: "Tokenization"),
        .target(name: "Tasks"),
        .target(name: "Rewards", dependencies: ["Tasks", "Sandbox", "CSandbox"]),
        // Runs untrusted programs (code rewards): namespaces, limits, a fork server; C for fork/exec.
        .target(name: "CSandbox", path: "Sources/CSandbox"),
        .target(name: "Sandbox", dependencies: ["CSandbox"]),
        .executableTarget(
            name: "grpo",
            dependencies: [
                "CKernels",
                "TensorCore",
                "ModelIO",
                "Transformer",
                "Generation",
                "Training",
                "Tracking",
                "Sandbox",
                "Tasks",
                "Rewards",
                "Evaluation",
                "Tokenization",
                "Collectives",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                "Yams",
            ]
        ),
        .testTarget(
            name: "TensorCoreTests",
            dependencies: ["TensorCore", "TestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ModelIOTests",
            dependencies: ["ModelIO", "TestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "TransformerTests",
            dependencies: ["Transformer", "ModelIO", "TestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "GenerationTests",
            dependencies: ["Generation", "Transformer", "TestSupport"]
        ),
        .testTarget(
            name: "TrainingTests",
            dependencies: ["Training", "Tasks", "TestSupport", "ModelIO"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "EvaluationTests",
            dependencies: ["Evaluation", "Transformer", "Tasks"]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["grpo", "Evaluation", "Tasks", "Tokenization", "Training", "Transformer"],
            exclude: ["Snapshots"]
        ),
        .testTarget(
            name: "TokenizationTests",
            dependencies: ["Tokenization", "TestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "TasksTests", dependencies: ["Tasks"], exclude: ["Fixtures"]),
        .testTarget(name: "TrackingTests", dependencies: ["Tracking"], exclude: ["Fixtures"]),
        .testTarget(name: "RewardsTests", dependencies: ["Rewards", "Tasks", "Sandbox"]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox"]),
        .testTarget(name: "CollectivesTests", dependencies: ["Collectives"]),
    ]
)
