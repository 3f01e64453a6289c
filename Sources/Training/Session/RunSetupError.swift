import Foundation

/// What can go wrong putting a run together from its settings: a model and tokenizer that do not
/// fit, data a trainer cannot use. Each message names the file and what was expected.
public enum RunSetupError: Error, LocalizedError, CustomStringConvertible, Equatable {
    case vocabularyMismatch(model: String, modelVocabulary: Int, tokenizerVocabulary: Int)
    case noChatTemplate(model: String)
    case messagesNeedChatTemplate(file: String)
    case emptyDataset(file: String)
    case missingColumn(file: String, row: Int, column: String)
    case tooLong(file: String, row: Int, tokens: Int, limit: Int)
    /// The model cannot serve this trainer (e.g. a classifier with several labels as a reward model).
    case unsupported(model: String, reason: String)
    /// A weight is NaN or infinite.
    case nonfiniteWeight(model: String, tensor: String, index: Int, value: Double)
    /// The model path is not a model: missing, a loop of symlinks, a file that is not .gguf, a
    /// folder without config.json.
    case notAModel(path: String, reason: String)

    public var description: String {
        switch self {
        case let .vocabularyMismatch(model, modelVocabulary, tokenizerVocabulary):
            return "\(model): the tokenizer has \(tokenizerVocabulary) token ids but the model's vocab_size is \(modelVocabulary); "
                + "ids past it have no embedding row (a tokenizer from another model?)"
        case let .noChatTemplate(model):
            return "\(model): use_chat_template is set but the tokenizer has no chat template"
        case let .messagesNeedChatTemplate(file):
            return "\(file): a row's prompt is a list of chat messages; set use_chat_template: true"
        case let .emptyDataset(file):
            return "\(file): no rows"
        case let .missingColumn(file, row, column):
            return "\(file): row \(row) has no `\(column)` column"
        case let .tooLong(file, row, tokens, limit):
            return "\(file): row \(row) is \(tokens) tokens, more than the \(limit) the run allows"
        case let .unsupported(model, reason):
            return "\(model): \(reason)"
        case let .nonfiniteWeight(model, tensor, index, value):
            return "\(model): tensor '\(tensor)' holds \(value) at flat index \(index); a model with NaN or infinite weights cannot be trained or run"
        case let .notAModel(path, reason):
            return "\(path): not a model: \(reason); a model is a Hugging Face folder (config.json, model.safetensors, "
                + "tokenizer.json) or a .gguf file"
        }
    }

    public var errorDescription: String? { description }
}
