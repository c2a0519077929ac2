"""What the pipeline steps call: embeddings, document loaders, the knowledge base, ..."""
