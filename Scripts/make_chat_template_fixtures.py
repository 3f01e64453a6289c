#!/usr/bin/env python3
"""Generate chat-template fixtures for the Tokenization tests (ChatTemplateTests.swift).

Run by hand from the repository root:

    pip install transformers jinja2 tokenizers
    python3 Scripts/make_chat_template_fixtures.py

Writes Tests/TokenizationTests/Fixtures/chat_templates/<name>.json, one file per chat template, plus
jinja_features.json with small templates that exercise each supported Jinja feature. Every expected string is
rendered by transformers itself: model templates through `PreTrainedTokenizerFast.apply_chat_template(...,
tokenize=False)` (a tiny WordLevel tokenizer carries the template and the special tokens), feature templates
through `render_jinja_template`, the function apply_chat_template calls. Both use transformers' Jinja
environment (`trim_blocks=True, lstrip_blocks=True`, its `tojson`, `raise_exception`, `strftime_now`).
`strftime_now` is pinned to FIXED_NOW so the output does not depend on the day the script runs.

File format (model templates):
    {"op": "chat_template", "model": <hub id>, "template": <text>, "special_tokens": {"bos_token": ...},
     "now": "YYYY-MM-DDTHH:MM:SS", "cases": [{"name", "messages", "add_generation_prompt",
     "kwargs": {extra template variables, e.g. tools}, "expected": <text> | "error": <message>}]}
jinja_features.json has the same "cases", each with its own "template".
"""

import json
import os
from datetime import datetime

import jinja2
import transformers
from tokenizers import Tokenizer, models
from transformers import PreTrainedTokenizerFast
from transformers.utils.chat_template_utils import _compile_jinja_template, render_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "Tests", "TokenizationTests", "Fixtures", "chat_templates")
FIXED_NOW = datetime(2024, 9, 5, 14, 7, 9)

# --------------------------------------------------------------------------
# The chat templates, as in each model's tokenizer_config.json "chat_template"
# --------------------------------------------------------------------------

# Qwen/Qwen2.5-7B-Instruct (the same template ships with every Qwen2.5-*-Instruct size).
QWEN2_5_INSTRUCT = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""

# HuggingFaceTB/SmolLM2-135M-Instruct (and 360M / 1.7B). The newlines inside the quoted strings are real newlines.
SMOLLM2_INSTRUCT = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# meta-llama/Meta-Llama-3-8B-Instruct. The newlines inside the quoted strings are real newlines.
LLAMA3_INSTRUCT = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim"
    " + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)

# meta-llama/Llama-3.1-8B-Instruct.
LLAMA3_1_INSTRUCT = r"""{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""

# meta-llama/Llama-3.2-1B-Instruct (and 3B): like 3.1, but the date comes from strftime_now.
LLAMA3_2_INSTRUCT = r"""{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- if strftime_now is defined %}
        {%- set date_string = strftime_now("%d %b %Y") %}
    {%- else %}
        {%- set date_string = "26 Jul 2024" %}
    {%- endif %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""

# --------------------------------------------------------------------------
# Conversations
# --------------------------------------------------------------------------

SYSTEM = {"role": "system", "content": "You are a terse assistant."}
USER = {"role": "user", "content": "What is 2 + 2?"}
ASSISTANT = {"role": "assistant", "content": "4."}
FOLLOW_UP = {"role": "user", "content": "And 3 + 3?"}

# Text a template must pass through untouched (or trim, where the template says so).
TRICKY = [
    {"role": "system", "content": "  Leading spaces, a trailing newline\n"},
    {"role": "user", "content": "Line one\nLine two\n\n    indented, 'single' \"double\" \\backslash {{ x }} {% y %}"},
    {"role": "assistant", "content": "Ünïcödé: 日本語, emoji 🎉, e\u0301 combining, \u2028 separator\n"},
    {"role": "user", "content": "\tTab first, trailing spaces   "},
]

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_temperature",
        "description": "Get the current temperature at a location.",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The location, as \"City, Country\"."},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}

WEATHER_CALL = {
    "type": "function",
    "function": {"name": "get_current_temperature", "arguments": {"location": "Paris, France", "unit": "celsius"}},
}

TOOL_CONVERSATION = [
    {"role": "system", "content": "You answer weather questions."},
    {"role": "user", "content": "How warm is it in Paris?"},
    {"role": "assistant", "content": "", "tool_calls": [WEATHER_CALL]},
    {"role": "tool", "content": "{\"temperature\": 22.5, \"unit\": \"celsius\"}"},
    {"role": "tool", "content": "second result"},
]


def basic_cases():
    """The conversations every template is checked on."""
    return [
        ("system_user", [SYSTEM, USER], True, {}),
        ("user_only", [USER], True, {}),
        ("multi_turn", [SYSTEM, USER, ASSISTANT, FOLLOW_UP], False, {}),
        ("multi_turn_generation_prompt", [USER, ASSISTANT, FOLLOW_UP], True, {}),
        ("tricky_text", TRICKY, False, {}),
    ]


MODELS = [
    # (file name, hub id, template, special tokens, extra cases)
    ("qwen2_5_instruct", "Qwen/Qwen2.5-7B-Instruct", QWEN2_5_INSTRUCT,
     {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
     [("tools", TOOL_CONVERSATION, True, {"tools": [WEATHER_TOOL]}),
      ("tools_no_system", TOOL_CONVERSATION[1:], True, {"tools": [WEATHER_TOOL]})]),
    ("smollm2_instruct", "HuggingFaceTB/SmolLM2-135M-Instruct", SMOLLM2_INSTRUCT,
     {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>",
      "pad_token": "<|im_end|>"},
     []),
    ("llama3_instruct", "meta-llama/Meta-Llama-3-8B-Instruct", LLAMA3_INSTRUCT,
     {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
     []),
    ("llama3_1_instruct", "meta-llama/Llama-3.1-8B-Instruct", LLAMA3_1_INSTRUCT,
     {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
     [("tools_in_user_message", TOOL_CONVERSATION[:4], True, {"tools": [WEATHER_TOOL]}),
      ("tools_in_system_message", TOOL_CONVERSATION[:4], True,
       {"tools": [WEATHER_TOOL], "tools_in_user_message": False}),
      ("builtin_tools", [SYSTEM, USER,
                         {"role": "assistant", "content": "", "tool_calls": [
                             {"function": {"name": "brave_search", "arguments": {"query": "weather Paris"}}}]},
                         {"role": "ipython", "content": "sunny"}],
       True, {"builtin_tools": ["code_interpreter", "brave_search", "wolfram_alpha"]}),
      ("custom_date", [USER], True, {"date_string": "01 Jan 2025"}),
      ("error_no_user_message", [SYSTEM], True, {"tools": [WEATHER_TOOL]}),
      ("error_two_tool_calls", [USER, {"role": "assistant", "content": "", "tool_calls": [WEATHER_CALL, WEATHER_CALL]}],
       False, {})]),
    ("llama3_2_instruct", "meta-llama/Llama-3.2-1B-Instruct", LLAMA3_2_INSTRUCT,
     {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
     [("tools_in_user_message", TOOL_CONVERSATION[:4], True, {"tools": [WEATHER_TOOL]}),
      ("custom_date", [USER], True, {"date_string": "01 Jan 2025"})]),
]

# --------------------------------------------------------------------------
# Small templates, one Jinja feature area each
# --------------------------------------------------------------------------

FEATURE_MESSAGES = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]

FEATURES = [
    ("lstrip_trim_blocks", "a\n  {% if true %}\n    b\n  {% endif %}\nc\n\t{# note #}\nd {% if true %}e{% endif %}\n"),
    ("strip_markers", "  {{ 'x' }}  \n{%- if true -%}  y  {%- endif -%}  \n z {{- ' w ' -}} .\n{#- c -#}\n  end"),
    ("plus_markers", "x\n    {%+ if true %}+{% endif +%}\nkeep\n  {%+ if true +%}\n!{% endif %}"),
    ("output_not_lstripped", "a\n    {{ 'b' }}\n  {% set x = 1 %}\n  c"),
    ("raw_block", "{% raw %}{{ not rendered }} {% if %}{% endraw %}|\n  {% raw -%}  x  {%- endraw %}y"),
    ("comments", "{# a comment #}A{#- stripped -#}  B  {# multi\nline #}\nC"),
    ("trailing_newline", "last line\n"),
    ("crlf_newlines", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc"),
    ("loop_variables",
     "{% for m in messages %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.length }}/{{ loop.revindex }}/"
     "{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.previtem is defined }}/"
     "{{ loop.cycle('odd', 'even') }};{% endfor %}"),
    ("loop_control",
     "{% for x in [1, 2, 3, 4, 5, 6] if x != 2 %}{% if x == 4 %}{% continue %}{% endif %}"
     "{% if x == 6 %}{% break %}{% endif %}{{ x }}({{ loop.length }}){% else %}empty{% endfor %}|"
     "{% for x in [] %}x{% else %}empty{% endfor %}|{% for k, v in [['a', 1], ['b', 2]] %}{{ k }}{{ v }}{% endfor %}"),
    ("scoping",
     "{% set x = 0 %}{% for i in [1, 2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}[{{ x }}]"
     "{% if true %}{% set y = 'if-set' %}{% endif %}{{ y }}"
     "{% set ns = namespace(total=0, seen=[]) %}{% for i in range(5) %}{% set ns.total = ns.total + i %}{% endfor %}"
     "{{ ns.total }}{% set messages = messages[1:] %}{{ messages | length }}"),
    ("namespace_cycle", "{% set ns = namespace(a=1) %}{% set ns.me = ns %}{% set ns.l = [ns] %}{{ ns }}"),
    ("duplicate_loop_names", "{% for a, a in [[1, 2]] %}{{ a }}{% endfor %}"),
    ("set_block", "{% set greeting %}Hello {{ messages[0].role }}!{% endset %}[{{ greeting }}]"),
    ("filters_text",
     "{{ '  pad  ' | trim }}|{{ 'xxpadxx' | trim('x') }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|"
     "{{ 'hello world' | capitalize }}|{{ 'hello wORLD-wide (x' | title }}|{{ 'a-b-c' | replace('-', '+') }}|"
     "{{ 'a-b-c' | replace('-', '+', 1) }}|{{ 5 | string + '!' }}|{{ 'x\ny\n\nz' | indent(2) }}|"
     "{{ 'x\ny' | indent(4, true) }}|{{ 'x\n\ny' | indent('> ', blank=true) }}|{{ 'abc' | reverse }}"),
    ("filters_sequences",
     "{{ [1, 2, 3] | length }}|{{ 'héllo' | length }}|{{ {'a': 1} | count }}|{{ [3, 4] | first }}|{{ [3, 4] | last }}|"
     "{{ 'xyz' | first }}|{{ ['a', 'b'] | join(', ') }}|{{ [1, none, 'x'] | join }}|"
     "{{ [{'n': 'x'}, {'n': 'y'}] | map(attribute='n') | join('+') }}|{{ ['a', 'b'] | map('upper') | join }}|"
     "{{ [1, 2, 3] | reverse | list }}|{{ ['a', 'b', 'a'] | select('equalto', 'a') | list }}|"
     "{{ ['a', 'b', 'a'] | reject('equalto', 'a') | list }}|{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|"
     "{{ [0, 1, '', 'x'] | select | list }}|{% for k, v in {'a': 1, 'b': [2]} | items %}{{ k }}={{ v }};{% endfor %}|"
     "{% for k, v in {'c': 3}.items() %}{{ k }}{{ v }}{% endfor %}|{{ '3' | int + 1 }}|{{ '2.5' | float }}|{{ -4 | abs }}"),
    ("filters_default",
     "{{ undefined_var | default('dflt') }}|{{ '' | default('e') }}|{{ '' | default('e', true) }}|"
     "{{ none | default('n') }}|{{ undefined_var | d('short') }}|{{ undefined_var }}|{{ undefined_var | length }}|"
     "{{ undefined_var | trim }}|{% for x in undefined_var %}x{% endfor %}|{{ undefined_var ~ 'tail' }}"),
    ("filters_tojson",
     "{{ {'k': 1, 'j': [1, 2.5, none, true, false], 's': 'é\"\\\\\n\t\u0001<>&\\''} | tojson }}|"
     "{{ {'k': {'a': [], 'b': {}}, 'l': [1, [2]]} | tojson(indent=2) }}|{{ [] | tojson(indent=4) }}|"
     "{{ 'x' | tojson }}|{{ 1.0 | tojson }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}|"
     "{{ {'a': [1, 2]} | tojson(separators=(',', ':')) }}|{{ 'é' | tojson(ensure_ascii=true) }}"),
    ("tests",
     "{{ foo is defined }}{{ messages is defined }}{{ foo is undefined }}{{ none is none }}{{ 1 is not none }}"
     "{{ 'a' is string }}{{ 1 is string }}{{ {} is mapping }}{{ [] is mapping }}{{ 'a' is iterable }}{{ 1 is iterable }}"
     "{{ [] is sequence }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(4) }}{{ 1 is number }}"
     "{{ true is number }}{{ 1.5 is float }}{{ 1 is integer }}{{ true is integer }}{{ true is boolean }}{{ 1 is true }}"
     "{{ true is true }}{{ 'x' is eq 'x' }}{{ 2 is gt 1 }}{{ 1 is lt 1 }}{{ 'a' is in 'cat' }}{{ 'ABC' is upper }}"
     "{{ 'abc' is lower }}{{ none is callable }}{{ raise_exception is callable }}"),
    ("membership",
     "{{ 'a' in 'cat' }}{{ '' in 'cat' }}{{ 'z' not in ['a'] }}{{ 1 in [1.0] }}{{ 'role' in messages[0] }}"
     "{{ 'tool_calls' in messages[0] }}{{ 'x' in undefined_var }}"),
    ("operators",
     "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} "
     "{{ 7 / 2 }} {{ 6 / 3 }} {{ 'a' ~ 1 ~ none ~ true }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ 1 < 2 < 3 }} {{ 3 > 2 >= 2 }} "
     "{{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ 'B' < 'a' }} {{ [1, 2] < [1, 3] }} {{ not true or false and true }} "
     "{{ not 1 == 2 }} {{ 'yes' if 0 else 'no' }} {{ 'shown' if 1 }}|{{ 'hidden' if 0 }}| {{ 1 and 'x' }} {{ 0 or 'y' }} "
     "{{ -3 }} {{ - 2 ** 2 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1.5e-7 }} {{ 10 / 4 }} {{ 1_000 + 1 }} {{ 2.0 * 3 }} "
     "{{ -0.0 }} {{ 100000000000000000.0 }} {{ 0.0001 }} {{ 0.00001 }}"),
    ("subscripts_and_slices",
     "{{ messages[0]['role'] }} {{ messages[0].content }} {{ messages[-1].role }} {{ messages.0.role }} "
     "{{ [1, 2, 3, 4][1:] }} {{ [1, 2, 3, 4][:-1] }} {{ [1, 2, 3, 4][::2] }} {{ [1, 2, 3, 4][::-1] }} "
     "{{ [1, 2, 3, 4][-3:-1] }} {{ [1, 2, 3][5:] }} {{ 'hello'[::-1] }} {{ 'hello'[1:3] }} {{ 'hello'[-1] }} "
     "[{{ [1][5] }}] [{{ messages[0].nothing }}] [{{ none.attr }}]"),
    ("methods",
     "{{ '  x y  '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '  x '.lstrip() }}|{{ ' x  '.rstrip() }}|"
     "{{ 'a,b,,c'.split(',') }}|{{ ' a  b \n'.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'abc'.startswith('ab') }}|"
     "{{ 'abc'.endswith(('x', 'c')) }}|{{ {'a': 1}.get('a') }}|{{ {'a': 1}.get('b', 'fallback') }}|{{ {'a': 1}.get('b') }}|"
     "{{ 'Hi There'.lower() }}|{{ 'a b'.upper() }}|{{ 'hello world'.title() }}|{{ 'abcabc'.replace('b', 'B') }}|"
     "{{ {'x': 1, 'y': 2}.keys() | list }}|{{ {'x': 1, 'y': 2}.values() | list }}|{{ 'a\nb\r\nc'.splitlines() }}|"
     "{{ '-'.join(['a', 'b']) }}|{{ 'banana'.count('a') }}|{{ 'banana'.find('n') }}|{{ 'x'.find('z') }}|{{ 'abc'.capitalize() }}"),
    ("literals",
     r"""{{ 'tab\there' }}|{{ "dq 'sq'" }}|{{ 'it\'s' }}|{{ 'a\\b' }}|{{ '\u00e9\x41\101\U0001F600' }}|"""
     r"""{{ 'unknown \q escape' }}|{{ [1, 'two', none, true, 2.5, "it's"] }}|{{ {'k': 'v', 'n': [none]} }}|"""
     r"""{{ none }}|{{ true }}|{{ False }}|{{ 'multi' 'part' }}|{{ (1, 2)[1] }}|{{ [] }}|{{ {} }}|{{ 'line\
continued' }}|{{ ('a') }}"""),
    ("dict_and_namespace",
     "{% set d = dict(a=1, b='x') %}{{ d.a }}{{ d['b'] }}{{ d | tojson }}{% set ns = namespace(d) %}{{ ns.b }}"
     "{% set ns.b = 'y' %}{{ ns.b }}{% set e = {'k': messages[0].role} %}{{ e.k }}{{ range(3) | list }}{{ range(1, 7, 2) | list }}"),
    ("macros",
     "{% set x = 1 %}{% macro m(a, b=a ~ '!') %}[{{ a }}{{ b }}{{ x }}]{% endmacro %}{% set x = 2 %}"
     "{{ m('x') }}{{ m('x', 'y') }}{{ m(b='q', a='p') }}{{ m('a') + 'z' }}|"
     "{% macro v(a) %}[{{ a }}|{{ varargs | length }}{{ varargs[0] }}|{{ kwargs }}]{% endmacro %}{{ v(1, 2, k=3) }}|"
     "{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}|"
     "{% for i in [1] %}{% macro w() %}({{ i }}){% endmacro %}{{ w() }}{% endfor %}{{ w is defined }}|"
     "{% macro loopless() %}{{ i }}{% endmacro %}{% for i in [5] %}[{{ loopless() }}]{% endfor %}|"
     "{% set ns = namespace(v=0) %}{% macro bump() %}{% set ns.v = ns.v + 1 %}{% set local = 1 %}{% endmacro %}"
     "{{ bump() }}{{ bump() }}{{ ns.v }}{{ local is defined }}|"
     "{%- macro trimmed(x) -%}\n  <{{ x }}>\n{%- endmacro -%}\n{{ trimmed(1) }}"),
    ("call_spread",
     "{% macro m(a, b, c=3) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(*[1, 2]) }}|{{ m(1, **{'b': 5, 'c': 6}) }}|"
     "{{ m(*['x'], **{'b': 'y'}) }}|{{ dict(**{'k': 1}) | tojson }}"),
    ("strftime_now", "{{ strftime_now('%Y-%m-%d %H:%M:%S %a %A %b %B %j %p %I %y %-d %e %% %F %T') }}"),
    ("generation_tag", "{% for m in messages %}{% generation %}{{ m.content }}{% endgeneration %};{% endfor %}"),
    ("tools_and_documents", "{{ tools }}|{{ documents }}|{{ tools is none }}|{{ add_generation_prompt }}"),
    ("error_raise_exception", "{% if messages | length > 1 %}{{ raise_exception('Bad: ' ~ messages | length) }}{% endif %}"),
    ("error_undefined_attribute", "line 1\n{{ missing.attr }}"),
    ("error_type", "{{ 1 + 'a' }}"),
    ("error_undefined_plus", "\n\n{{ messages[5].content }}"),
    ("error_not_callable", "{{ messages() }}"),
    ("error_macro_arguments", "{% macro m(a) %}{{ a }}{% endmacro %}\n{{ m(1, 2) }}"),
    ("error_macro_keyword", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(b=1) }}"),
]


# --------------------------------------------------------------------------
# Rendering through transformers
# --------------------------------------------------------------------------

def pin_strftime(template):
    """Makes strftime_now in transformers' compiled (cached) template report FIXED_NOW."""
    _compile_jinja_template(template).globals["strftime_now"] = lambda fmt: FIXED_NOW.strftime(fmt)


def outcome(render):
    try:
        return {"expected": render()}
    except (jinja2.exceptions.TemplateError, TypeError, ValueError) as error:
        # raise_exception gives TemplateError; the Swift tests check that message exactly, others only fail
        return {"error": str(error), "error_type": type(error).__name__}


def model_fixture(name, model, template, special_tokens, extra_cases):
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>")),
        chat_template=template, **special_tokens)
    pin_strftime(template)
    cases = []
    for case_name, messages, add_generation_prompt, kwargs in basic_cases() + extra_cases:
        result = outcome(lambda: tokenizer.apply_chat_template(
            messages, add_generation_prompt=add_generation_prompt, tokenize=False, **kwargs))
        cases.append({"name": case_name, "messages": messages, "add_generation_prompt": add_generation_prompt,
                      "kwargs": kwargs, **result})
    return {"op": "chat_template", "model": model, "template": template,
            "special_tokens": tokenizer.special_tokens_map, "now": FIXED_NOW.isoformat(), "cases": cases}


def features_fixture():
    cases = []
    for case_name, template in FEATURES:
        pin_strftime(template)
        result = outcome(lambda: render_jinja_template(
            conversations=[FEATURE_MESSAGES], chat_template=template, add_generation_prompt=True)[0][0])
        cases.append({"name": case_name, "template": template, "messages": FEATURE_MESSAGES,
                      "add_generation_prompt": True, "kwargs": {}, **result})
    return {"op": "chat_template_features", "special_tokens": {}, "now": FIXED_NOW.isoformat(), "cases": cases}


def write(name, fixture):
    fixture["versions"] = {"transformers": transformers.__version__, "jinja2": jinja2.__version__}
    path = os.path.join(OUT_DIR, name + ".json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum("error" in case for case in fixture["cases"])
    print(f"{path}: {len(fixture['cases'])} cases ({errors} raise)")


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, model, template, special_tokens, extra_cases in MODELS:
        write(name, model_fixture(name, model, template, special_tokens, extra_cases))
    write("jinja_features", features_fixture())


if __name__ == "__main__":
    main()
