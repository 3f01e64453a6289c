/// Text to token ids and back, as the trainers need it (the CLI adapts the tokenizer to it).
public protocol TextCodec {
    func encode(_ text: String) throws -> [Int32]
    func decode(_ ids: [Int32]) -> String
    /// Tokens that end a completion.
    var eosTokenIDs: Set<Int32> { get }
}
