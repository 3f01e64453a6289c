import Foundation
import Training
import Yams

/// YAML at the edge: config files and `--set key=value` overrides read into the library's
/// `SettingEntry` values, in order, each naming where it came from.
enum SettingsFile {
    /// The entries of a YAML file holding one mapping of key: value.
    static func entries(_ path: String) throws -> [SettingEntry] {
        let text: String
        do { text = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8) } catch {
            throw SettingsError.unreadable(file: path, reason: error.localizedDescription)
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw SettingsError.unreadable(file: path, reason: "YAML: \(error)")
        }
        guard let node else { return [] }
        guard let mapping = node.mapping else { throw SettingsError.notAMapping(file: path) }
        var seen = Set<String>()
        return try mapping.map { key, value in
            guard let name = key.string else { throw SettingsError.notAMapping(file: path) }
            guard seen.insert(name).inserted else {
                throw SettingsError.badValue(source: path, key: name, reason: "set twice in the file")
            }
            return SettingEntry(name, settingValue(value), source: path)
        }
    }

    /// `key=value` overrides; the value reads as a YAML scalar or flow list (`[a, b]`).
    static func overrides(_ texts: [String], source: String = "--set") throws -> [SettingEntry] {
        try texts.map { text in
            guard let eq = text.firstIndex(of: "="), eq != text.startIndex else { throw SettingsError.badOverride(text) }
            let raw = String(text[text.index(after: eq)...])
            let value = raw.isEmpty ? SettingValue.string("") : ((try? Yams.compose(yaml: raw)).flatMap { $0 }.map(settingValue) ?? .string(raw))
            return SettingEntry(String(text[..<eq]), value, source: source)
        }
    }

    /// A YAML node as a setting value (scalars resolved by YAML's core schema).
    static func settingValue(_ node: Node) -> SettingValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                if node.null != nil { return .null }
                if let b = node.bool { return .bool(b) }
                if let i = node.int { return .int(i) }
                if let d = node.float { return .double(d) }
            }
            return .string(scalar.string)
        case .sequence(let sequence): return .list(sequence.map(settingValue))
        case .mapping: return .mapping
        case .alias: return .mapping
        }
    }
}

/// The options every `grpo train` command shares.
struct TrainOptions: ParsableArguments {
    @Option(help: "YAML config (keys: see --help).") var config: String?
    @Option(name: .customLong("set"), help: "Override a key: --set key=value (repeatable; wins over the file).")
    var overrides: [String] = []
    @Flag(help: "Continue from the latest checkpoint in output_dir.") var resume = false
    @Flag(help: "Skip malformed JSONL lines (counted) instead of stopping at the first.") var skipBadLines = false
    @Flag(help: "Print the resolved settings as YAML (feed it back with --config) and exit.") var printConfig = false

    /// The settings from the file and overrides, checked.
    func resolve<C: Configurable>(_ type: C.Type) throws -> C {
        try C.resolve((config.map(SettingsFile.entries) ?? []) + SettingsFile.overrides(overrides), readFrom: config.map { [$0] } ?? [])
    }
}

import ArgumentParser
