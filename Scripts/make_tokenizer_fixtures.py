#!/usr/bin/env python3
"""Generate golden tokenizer fixtures for the Tokenization tests.

Run by hand from the repository root:

    python3 Scripts/make_tokenizer_fixtures.py
    python3 Scripts/make_tokenizer_fixtures.py --verify-export DIR
    python3 Scripts/make_tokenizer_fixtures.py --smollm2-gguf models/SmolLM2-135M-Instruct.Q4_1.gguf

Requires `pip install tokenizers transformers` (written against tokenizers 0.23).
No model hub is reachable, so the real pipelines are rebuilt here: small byte-level
BPE tokenizers are trained on the corpus below and configured like GPT-2, Llama 3,
Qwen2 and SmolLM2 (same normalizer, pre-tokenizer regex, post-processor, decoder and
special tokens; only the vocabulary is small). Writes into Tests/TokenizationTests/Fixtures/:

    <name>/tokenizer.json          the tokenizer (merges as pairs or as "a b" strings)
    <name>/tokenizer_config.json   bos/eos tokens and a chat template (some tokenizers)
    <name>/golden.json             {"cases": [{"text", "ids", "ids_with_special",
                                    "decoded", "decoded_skip_special"}],
                                    "decode_cases": [{"ids", "decoded", "decoded_skip_special"}]}
    pretokenizers.json             [{"pre_tokenizer": {...}, "cases": [[text, [pieces]]]}]
    normalizers.json               [{"normalizer": {...}, "cases": [[text, normalized]]}]

Every id and string comes from `tokenizers.Tokenizer.from_file(path)`, so the
files on disk are what is checked. Training is deterministic: re-running gives
the same files for the same tokenizers version.

--smollm2-gguf GGUF (needs `pip install gguf`; the file comes from `make smollm2`) rebuilds the
real SmolLM2-135M tokenizer.json from the 49,152-token vocabulary and merges in the GGUF file, with
SmolLM2's pipeline, into models/smollm2-tokenizer/ (git-ignored, too big to commit) with a
golden.json; GoldenTokenizerTests checks it when it is there.

--verify-export DIR checks files the Swift side wrote (see TokenizerExportTests,
run with TOKENIZATION_EXPORT_DIR=DIR): every DIR/<name>/tokenizer.json must load in
`tokenizers` and encode the golden strings to the golden ids, and DIR/<name> must
load with transformers' AutoTokenizer.
"""

import argparse
import json
import os
import random
import sys

from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models, normalizers,
                        pre_tokenizers, processors, trainers)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "Tests", "TokenizationTests", "Fixtures")

GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
                  r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
                 r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
# Not one the Swift side recognises, so it exercises the general regex engine (GPT-4o style).
O200K_PATTERN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
                 r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
                 r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")

# ---------------------------------------------------------------------------------------
# Training corpus: a few KB of mixed languages, code, numbers and emoji.
# ---------------------------------------------------------------------------------------

CORPUS = """
The quick brown fox jumps over the lazy dog. It's a sunny day, and we're going to the park.
I'm sure they'll be there; don't worry, you've got time. She'd like to know what's happening.
Tokenization splits text into pieces that a language model can read. Byte-level BPE starts from
the 256 byte values and merges the most frequent pairs until the vocabulary is full.
Reinforcement learning from verifiable rewards trains a policy to solve math problems.
The answer is 42. The year 2024 had 366 days; 3.14159 is pi, and 1,000,000 is a million.
Call 555-0123 or write to info@example.com before 10:30 AM on 2025-01-15.
Prices rose by 12.5% to $1,299.99, while the index fell 0.75 points.
Le renard brun rapide saute par-dessus le chien paresseux. C'est l'été, où êtes-vous ?
Les élèves étudient la tokenisation des phrases françaises avec des accents : é, è, ê, à, ç.
Der schnelle braune Fuchs springt über den faulen Hund. Größe, Übung, Äpfel und Straße.
El rápido zorro marrón salta sobre el perro perezoso. ¿Dónde está la biblioteca? ¡Olé!
Il veloce volpe marrone salta sopra il cane pigro. Perché no? Così è la vita.
O rápido raposo marrom pula sobre o cão preguiçoso. Ação, coração, informação.
Быстрая коричневая лиса прыгает через ленивую собаку. Привет, мир! Как дела?
Γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλη σκύλο. Γειά σου Κόσμε!
敏捷的棕色狐狸跳过了懒狗。你好，世界！今天天气很好，我们去公园散步吧。机器学习和自然语言处理。
素早い茶色の狐が怠け者の犬を飛び越える。こんにちは世界。日本語のテキストを分割します。
빠른 갈색 여우가 게으른 개를 뛰어넘습니다. 안녕하세요, 세계! 한국어 텍스트입니다.
الثعلب البني السريع يقفز فوق الكلب الكسول. مرحبا بالعالم!
तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है। नमस्ते दुनिया!
Hızlı kahverengi tilki tembel köpeğin üzerinden atlar. İstanbul, ılık, şeker.
Szybki brązowy lis przeskakuje nad leniwym psem. Zażółć gęślą jaźń.
Emoji time: 😀 😃 😄 😁 🎉 🚀 ❤️ 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷 🇯🇵 ✅ ⭐ 🔥 💯
def fibonacci(n):
    if n < 2:
        return n
    return fibonacci(n - 1) + fibonacci(n - 2)

for i in range(10):
    print(f"fib({i}) = {fibonacci(i)}")

func encode(_ text: String) -> [Int] {
    let ids = text.utf8.map { Int($0) }
    return ids.filter { $0 != 32 }
}

{"name": "swift-grpo", "version": "0.1.0", "tags": ["rl", "grpo", "llm"], "count": 3}
if (a && b) { x += 1; } else { y -= 2; }  // TODO: fix this
<html><body><p class="intro">Hello, world!</p></body></html>
SELECT id, name FROM users WHERE age >= 18 ORDER BY name;
Q: What is 17 * 23? A: 17 * 23 = 391. Q: What is 144 / 12? A: 12.
Solve for x: 3x + 5 = 20, so 3x = 15 and x = 5. The square root of 169 is 13.
    Indented line with four spaces.
\tTabbed line.\t\tTwo tabs.
Multiple   spaces   between   words.
Line one.\nLine two.\r\nLine three.\n\nParagraph two.
"""

# Repeated material that makes the merges of common words and numbers win early.
EXTRA = [
    "the and of to in is that it for on with as was at by an be this which or from",
    "user assistant system tool answer question reasoning step think solution",
    " ".join(str(n) for n in range(0, 200, 7)),
    " ".join(str(n * 37 % 1000) for n in range(60)),
]


def corpus_lines():
    lines = [line.replace("\\t", "\t").replace("\\n", "\n").replace("\\r", "\r")
             for line in CORPUS.strip("\n").split("\n")]
    return lines * 3 + EXTRA * 5


# ---------------------------------------------------------------------------------------
# Strings whose encodings are checked.
# ---------------------------------------------------------------------------------------

TRICKY = [
    "", " ", "  ", "Hello world", " Hello world", "Hello  world", "   leading spaces",
    "trailing spaces   ", "multiple   spaces   between", "\n", "\n\n\n", " \n ", "\r\n",
    "line1\nline2\r\nline3", "tabs\tand\t\ttabs", " \t \n mixed whitespace \n\t ",
    "text\n\n  indented after blank line", "ends with newline\n", "  \n\n  \n",
    "don't", "I'M", "we'll", "She'S", "they've", "'s", "rock'n'roll", "O'Neil's", "it'S'RE'VE'LL'D'M'T",
    "'sup", "''s", "\"quoted\"", "l'été", "ſ'ſ 'ſx",
    "1234567890", "3.14159", "12,345,678", "v2.0.1", "2024-01-15", "100000000000000000000",
    "a1b22c333d4444", "٣٤٥ ½ Ⅻ ①②③", "x=1+2*3/4-5",
    "café", "naïve", "e\u0301", "cafe\u0301", "Ångström", "ﬁ ligature", "ǅ titlecase",
    "Ω ohm \u2126 K kelvin \u212a", "\u1100\u1161\u11a8 jamo", "ガ\u30ab\u3099",
    "你好，世界！", "日本語のテキスト", "한국어 텍스트", "Привет, мир!", "Γειά σου Κόσμε",
    "مرحبا بالعالم", "नमस्ते दुनिया", "İstanbul ılık", "Zażółć gęślą jaźń",
    "😀", "👨‍👩‍👧‍👦 family", "🏳️‍🌈", "👍🏽", "❤️", "🇫🇷🇯🇵", "Hello👋world", "🎉🎉🎉",
    "\u00a0nbsp\u00a0", "\u3000ideographic space\u3000", "a\u2028b\u2029c", "zero\u200bwidth",
    "next\u0085line", "vertical\u000btab", "form\u000cfeed", "nul\u0000char", "\u0001\u001f controls",
    "def f(x):\n    return x**2  # square\n", "if (a && b) { return 0; }", '{"key": [1, 2, 3]}',
    "<html><p>hi</p></html>", "...!!!???", "@user #hashtag $100 50% a+b=c", "~`^|\\ []{}",
    "Hello world<|endoftext|>", "<|endoftext|>", "text<|endoftext|>more text",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|><|im_end|>", "<|im_start", "<|im_end|> trailing", "a <|im_start|> b",
    "<|begin_of_text|>Hello", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<tool_call>{\"name\": \"f\"}</tool_call>", "<s> hello </s>", "[MASK] x [MASK]", "the [MASK]y",
    "tokenization", " tokenization", "ignoremergesword", " ignoremergesword!",
    "The quick brown fox jumps over the lazy dog. It's a sunny day, and we're going to the park.",
    "Le renard brun rapide saute par-dessus le chien paresseux. C'est l'été, où êtes-vous ?",
    "a" * 300,
    "ab" * 120,
    "敏捷的棕色狐狸跳过了懒狗" * 12,
    "9" * 60,
    " " * 40 + "x",
    "\n" * 20,
]

# Strings that stress the pre-tokenizer regexes: random mixes of the characters they treat
# differently (letters of each case, digits of each kind, whitespace of each kind, apostrophes).
RANDOM_ALPHABET = list("aZsStTrReEvVmMlLdD'  \n\r\t.,!_-12") + [
    "é", "ſ", "٣", "½", "Ⅻ", "😀", "\u200d", "你", "\u0301", "\u00a0", "\u3000", "\u0085",
    "\u000b", "\u2028", "ß", "İ", "Ω",
]


# Whole added tokens (of one fixture or another) and words, mixed into the random strings that are
# encoded by the tokenizers.
RANDOM_UNITS = RANDOM_ALPHABET + ["<|im_start|>", "<|im_end|>", "<|endoftext|>", "<|begin_of_text|>",
                                  "[MASK]", "<s>", "ToKeN", "hello", "the", " world", "<tool_call>", "12345"]


def random_strings(count, seed, units=RANDOM_ALPHABET):
    rng = random.Random(seed)
    return ["".join(rng.choice(units) for _ in range(rng.randint(0, 24))) for _ in range(count)]


# ---------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------

def train(tok, vocab_size, special_tokens):
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=special_tokens)
    tok.train_from_iterator(corpus_lines(), trainer)
    return tok


def make_gpt2():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    return train(tok, 1200, ["<|endoftext|>"]), None


LLAMA3_SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                  "<|reserved_special_token_1|>", "<|start_header_id|>", "<|end_header_id|>",
                  "<|reserved_special_token_2|>", "<|eot_id|>"]


def make_llama3():
    tok = Tokenizer(models.BPE(ignore_merges=True))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    train(tok, 1200, [])
    # Whole words without merges, so only `ignore_merges` finds them; added before the
    # special tokens, which Llama 3 puts after the BPE vocabulary.
    data = json.loads(tok.to_str())
    add_unmerged_vocab(data, ["ignoremergesword", "Ġignoremergesword"])
    tok = Tokenizer.from_str(json.dumps(data))
    tok.add_special_tokens(LLAMA3_SPECIAL)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                      pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)]),
    ])
    config = {
        "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>",
        "model_max_length": 131072, "tokenizer_class": "PreTrainedTokenizerFast",
        "chat_template": "{{ bos_token }}{% for message in messages %}<|start_header_id|>"
                         "{{ message['role'] }}<|end_header_id|>\n\n{{ message['content'] | trim }}"
                         "<|eot_id|>{% endfor %}{% if add_generation_prompt %}<|start_header_id|>"
                         "assistant<|end_header_id|>\n\n{% endif %}",
    }
    return tok, config


def add_unmerged_vocab(data, words):
    """Adds whole words to the vocabulary without merges, so only `ignore_merges` finds them."""
    vocab = data["model"]["vocab"]
    next_id = max(vocab.values()) + 1
    for word in words:
        if word not in vocab:
            vocab[word] = next_id
            next_id += 1


def merges_as_strings(data):
    data["model"]["merges"] = [" ".join(pair) for pair in data["model"]["merges"]]


def make_qwen2():
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False,
                                              use_regex=False)
    train(tok, 1500, [])
    tok.add_special_tokens(["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    # Qwen2.5 marks its tool-call tags as added tokens that are not special.
    tok.add_tokens([AddedToken("<tool_call>", special=False, normalized=False),
                    AddedToken("</tool_call>", special=False, normalized=False)])
    config = {
        "bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "model_max_length": 32768, "tokenizer_class": "PreTrainedTokenizerFast",
        "chat_template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                         "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
                         "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    }
    return tok, config


def make_smollm2():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel(add_prefix_space=True, trim_offsets=True, use_regex=True)
    tok.post_processor = processors.ByteLevel(add_prefix_space=True, trim_offsets=False,
                                              use_regex=True)
    train(tok, 1000, ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<repo_name>", "<file_sep>"])
    config = {
        "bos_token": {"__type": "AddedToken", "content": "<|im_start|>", "lstrip": False,
                      "normalized": False, "rstrip": False, "single_word": False},
        "eos_token": {"__type": "AddedToken", "content": "<|im_end|>", "lstrip": False,
                      "normalized": False, "rstrip": False, "single_word": False},
        "model_max_length": 8192, "tokenizer_class": "GPT2Tokenizer",
        "chat_template": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
                         "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}",
    }
    return tok, config


def make_options():
    """The rarer options: a normalizer sequence, prefix spaces, Split on a string, added tokens
    with lstrip/rstrip/single_word/normalized, and a template that adds bos and eos."""
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(" ", behavior="merged_with_next"),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True),
    ])
    tok.decoder = decoders.Sequence([decoders.ByteLevel()])
    train(tok, 600, ["<s>", "</s>"])
    tok.add_special_tokens([AddedToken("[MASK]", lstrip=True, rstrip=True, special=True),
                            AddedToken("<|im_start|>", single_word=True, special=True)])
    tok.add_tokens([AddedToken("ToKeN", normalized=True), AddedToken("hello", single_word=True,
                                                                   normalized=False)])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    return tok, None


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def golden(tok):
    cases = []
    for text in TRICKY + random_strings(60, seed=7, units=RANDOM_UNITS):
        ids = tok.encode(text, add_special_tokens=False).ids
        cases.append({
            "text": text, "ids": ids,
            "ids_with_special": tok.encode(text, add_special_tokens=True).ids,
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
        })
    decode_ids = []
    # Single tokens of multi-byte characters decode to replacement characters.
    for text in ["😀 日本", "👨‍👩‍👧", "é"]:
        decode_ids += [[i] for i in tok.encode(text, add_special_tokens=False).ids]
    # Lone high bytes, a truncated 4-byte sequence, and an invalid lead byte.
    byte_char = _bytes_to_unicode()
    for raw in [b"\x80", b"\x80\x80", b"\xf0\x9f\x98", b"\xf0\x9f\x98A", b"\xc3", b"\xff\xfe", b"a\xe6\x97b"]:
        ids = [tok.token_to_id(byte_char[b]) for b in raw]
        if None not in ids:  # real vocabularies may lack bytes that never occur in UTF-8
            decode_ids.append(ids)
    specials = [t.content for t in tok.get_added_tokens_decoder().values()]
    decode_ids.append([tok.token_to_id(s) for s in specials] + tok.encode(" x y").ids)
    decode_ids.append([10**7, 5, 10**7])  # unknown ids are skipped
    decode_cases = [{"ids": ids, "decoded": tok.decode(ids, skip_special_tokens=False),
                     "decoded_skip_special": tok.decode(ids, skip_special_tokens=True)}
                    for ids in decode_ids]
    return {"cases": cases, "decode_cases": decode_cases}


def _bytes_to_unicode():
    """GPT-2's byte -> character table, in byte order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs))
    return [chr(table[b]) for b in range(256)]


TOKENIZERS = {
    # name: (builder, post-processing of the JSON)
    "gpt2": (make_gpt2, None),
    "llama3": (make_llama3, merges_as_strings),
    "qwen2": (make_qwen2, None),
    "smollm2": (make_smollm2, merges_as_strings),
    "options": (make_options, merges_as_strings),
}


def write_tokenizer(name, builder, postprocess):
    tok, config = builder()
    data = json.loads(tok.to_str())
    if postprocess:
        postprocess(data)
    folder = os.path.join(OUT_DIR, name)
    path = os.path.join(folder, "tokenizer.json")
    write_json(path, data)
    if config is not None:
        write_json(os.path.join(folder, "tokenizer_config.json"), config)
    loaded = Tokenizer.from_file(path)  # the golden values come from the file on disk
    write_json(os.path.join(folder, "golden.json"), golden(loaded))
    merges = data["model"]["merges"]
    style = "strings" if merges and isinstance(merges[0], str) else "pairs"
    print(f"{name}: vocab {loaded.get_vocab_size()}, {len(merges)} merges as {style}, "
          f"{os.path.getsize(path) // 1024} KB")


# ---------------------------------------------------------------------------------------
# Pre-tokenizer and normalizer goldens
# ---------------------------------------------------------------------------------------

def split(pattern, behavior="isolated", invert=False, regex=True):
    return pre_tokenizers.Split(Regex(pattern) if regex else pattern, behavior=behavior, invert=invert)


def pretokenizer_configs():
    """(pre-tokenizer, which texts): "random" adds random strings to the tricky ones,
    "short" keeps the tricky strings under 60 characters."""
    behaviors = ["removed", "isolated", "merged_with_previous", "merged_with_next", "contiguous"]
    configs = [
        (pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), "random"),
        (pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True), "short"),
        (pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False), "short"),
        (pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False), "short"),
        (split(GPT2_PATTERN), "random"),
        (split(LLAMA3_PATTERN), "random"),
        (split(QWEN2_PATTERN), "random"),
        (split(O200K_PATTERN), "random"),
        (pre_tokenizers.Digits(individual_digits=True), "short"),
        (pre_tokenizers.Digits(individual_digits=False), "short"),
        (pre_tokenizers.Sequence([split(LLAMA3_PATTERN), pre_tokenizers.ByteLevel(
            add_prefix_space=False, use_regex=False)]), "short"),
        (pre_tokenizers.Sequence([split(QWEN2_PATTERN), pre_tokenizers.ByteLevel(
            add_prefix_space=True, use_regex=False)]), "short"),
        (pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                  pre_tokenizers.ByteLevel(add_prefix_space=False)]), "short"),
        # ByteLevel in the middle: the next stage sees the byte-level characters.
        (pre_tokenizers.Sequence([pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
                                  split("Ġ", "merged_with_next", regex=False)]), "short"),
        (pre_tokenizers.Sequence([pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
                                  pre_tokenizers.Digits(individual_digits=True)]), "short"),
    ]
    for behavior in behaviors:
        for invert in [False, True]:
            configs.append((split(LLAMA3_PATTERN, behavior, invert), "behaviors"))
            configs.append((split(r"\s+", behavior, invert), "behaviors"))
            configs.append((split(" ", behavior, invert, regex=False), "behaviors"))
            configs.append((split("ab", behavior, invert, regex=False), "behaviors"))
    return configs


BEHAVIOR_TEXTS = ["", " ", "  a  b  ", "Hello world", "don't stop", "ab ab abab", " x\n\ny ",
                  "a1 22 333", "😀 é\u0301 你好", "xabyabz ab", "tail  "]


def pretokenizer_goldens():
    short = [t for t in TRICKY if len(t) < 60]
    texts = {"random": TRICKY + random_strings(250, seed=1234), "short": short,
             "behaviors": BEHAVIOR_TEXTS}
    out = []
    for pretok, which in pretokenizer_configs():
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pretok
        spec = json.loads(tok.to_str())["pre_tokenizer"]
        cases = [[t, [p for p, _ in pretok.pre_tokenize_str(t)]] for t in texts[which]]
        out.append({"pre_tokenizer": spec, "cases": cases})
    return out


def normalizer_goldens():
    texts = TRICKY + ["Å\u030a", "\u1e9b\u0323", "a\u0328\u0301", "ḱṷṓn", "\ufb01\u2460\u00bd",
                      "\u0041\u030a\u0301", "한\u11a8", "\u0915\u093c"]
    out = []
    for norm in [normalizers.NFC(), normalizers.NFD(), normalizers.NFKC(), normalizers.NFKD(),
                 normalizers.Lowercase(),
                 normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])]:
        tok = Tokenizer(models.BPE())
        tok.normalizer = norm
        spec = json.loads(tok.to_str())["normalizer"]
        out.append({"normalizer": spec, "cases": [[t, norm.normalize_str(t)] for t in texts]})
    return out


# ---------------------------------------------------------------------------------------
# Checking files written by the Swift side
# ---------------------------------------------------------------------------------------

def verify_export(directory):
    from transformers import AutoTokenizer
    failures = 0
    for name in sorted(os.listdir(directory)):
        folder = os.path.join(directory, name)
        path = os.path.join(folder, "tokenizer.json")
        if not os.path.isfile(path):
            continue
        tok = Tokenizer.from_file(path)
        gold = json.load(open(os.path.join(OUT_DIR, name, "golden.json"), encoding="utf-8"))
        bad = [c["text"] for c in gold["cases"]
               if tok.encode(c["text"], add_special_tokens=False).ids != c["ids"]
               or tok.encode(c["text"]).ids != c["ids_with_special"]
               or tok.decode(c["ids"], skip_special_tokens=False) != c["decoded"]]
        hf = AutoTokenizer.from_pretrained(folder)
        bad_hf = [c["text"] for c in gold["cases"]
                  if hf(c["text"], add_special_tokens=False)["input_ids"] != c["ids"]]
        print(f"{name}: tokenizers {len(gold['cases']) - len(bad)}/{len(gold['cases'])} equal, "
              f"AutoTokenizer ({type(hf).__name__}) {len(gold['cases']) - len(bad_hf)}/"
              f"{len(gold['cases'])} equal, bos {hf.bos_token!r} eos {hf.eos_token!r}")
        failures += len(bad) + len(bad_hf)
        for text in (bad + bad_hf)[:5]:
            print("   differs:", repr(text))
    return failures


def write_real_smollm2(gguf_path):
    """SmolLM2-135M's tokenizer.json rebuilt from its GGUF file: the real vocabulary and merges, the
    17 control tokens as special added tokens, and SmolLM2's pre-tokenizer, decoder and post-processor."""
    from gguf import GGUFReader
    reader = GGUFReader(gguf_path)

    def strings(key):
        field = reader.fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    tokens = strings("tokenizer.ggml.tokens")
    types = [int(reader.fields["tokenizer.ggml.token_type"].parts[i][0])
             for i in reader.fields["tokenizer.ggml.token_type"].data]
    control = [i for i, t in enumerate(types) if t == 3]
    template = bytes(reader.fields["tokenizer.chat_template"].parts[-1]).decode("utf-8")
    data = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": i, "content": tokens[i], "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True} for i in control],
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<|endoftext|>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": {t: i for i, t in enumerate(tokens)}, "merges": strings("tokenizer.ggml.merges")},
    }
    folder = os.path.join(ROOT, "models", "smollm2-tokenizer")
    write_json(os.path.join(folder, "tokenizer.json"), data)
    write_json(os.path.join(folder, "tokenizer_config.json"),
               {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "chat_template": template})
    loaded = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    gold = golden(loaded)
    # Longer text too: the corpus and random strings, one case per line.
    for text in corpus_lines()[:120] + random_strings(200, seed=99):
        ids = loaded.encode(text, add_special_tokens=False).ids
        gold["cases"].append({"text": text, "ids": ids, "ids_with_special": loaded.encode(text).ids,
                              "decoded": loaded.decode(ids, skip_special_tokens=False),
                              "decoded_skip_special": loaded.decode(ids, skip_special_tokens=True)})
    write_json(os.path.join(folder, "golden.json"), gold)
    print(f"smollm2 (real vocabulary): {loaded.get_vocab_size()} tokens, {len(data['model']['merges'])} merges, "
          f"{len(gold['cases'])} cases in {os.path.relpath(folder, ROOT)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--verify-export", metavar="DIR",
                        help="check tokenizer folders written by the Swift tests instead")
    parser.add_argument("--smollm2-gguf", metavar="GGUF",
                        help="write models/smollm2-tokenizer from SmolLM2's GGUF file instead")
    args = parser.parse_args()
    if args.verify_export:
        sys.exit(1 if verify_export(args.verify_export) else 0)
    if args.smollm2_gguf:
        return write_real_smollm2(args.smollm2_gguf)
    for name, (builder, postprocess) in TOKENIZERS.items():
        write_tokenizer(name, builder, postprocess)
    write_json(os.path.join(OUT_DIR, "pretokenizers.json"), pretokenizer_goldens())
    write_json(os.path.join(OUT_DIR, "normalizers.json"), normalizer_goldens())
    ours = [os.path.join(OUT_DIR, name) for name in TOKENIZERS] + [
        os.path.join(OUT_DIR, f) for f in ("pretokenizers.json", "normalizers.json")]
    total = sum(os.path.getsize(os.path.join(d, f)) for path in ours
                for d, _, fs in (os.walk(path) if os.path.isdir(path) else [(OUT_DIR, None, [os.path.basename(path)])])
                for f in fs)
    print(f"fixtures: {total // 1024} KB in {os.path.relpath(OUT_DIR, ROOT)}")


if __name__ == "__main__":
    main()
