/// One generated problem, in every form a prompt format needs.
public struct Problem: Sendable, Hashable {
    /// Canonical identity: two problems with the same key are the same problem (train and test never share one).
    public var key: String
    /// The shortest prompt, for plain completion: "123+456=".
    public var barePrompt: String
    /// The question as a sentence, for instructions and chat: "What is 123+456?".
    public var question: String
    /// The answer column: "579", or for countdown one correct expression.
    public var answer: String
    /// The short working a target completion shows inside <think></think>: "123+456=579".
    public var working: String
    /// Task-specific columns a verifier needs (countdown: `numbers`, `target`).
    public var columns: [String: JSONValue]

    public init(key: String, barePrompt: String, question: String, answer: String, working: String,
                columns: [String: JSONValue] = [:]) {
        self.key = key
        self.barePrompt = barePrompt
        self.question = question
        self.answer = answer
        self.working = working
        self.columns = columns
    }
}
