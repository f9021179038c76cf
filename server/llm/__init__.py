"""The language-model layer shared by the LLM engines: one client for any
OpenAI-compatible endpoint, prompts that fence untrusted text, and sources cut to a
token budget by relevance."""
