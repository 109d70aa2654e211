"""Tiny random Qwen2-VL, Qwen2.5-VL and LLaVA models, built from configs with nothing downloaded.

:func:`build_tiny_qwen2_vl` saves a directory that ``Qwen2VLForConditionalGeneration`` and
``AutoProcessor`` load offline, and that lmms-eval's ``qwen2_vl`` model class runs on CPU
(``--model_args pretrained=DIR,device=cpu,device_map=cpu``); :func:`build_tiny_qwen2_5_vl` does the
same for Qwen2.5-VL (lmms-eval's ``qwen2_5_vl``, chat by default) and :func:`build_tiny_llava` for
LLaVA-1.5 (``llava_hf``, chat by default). The weights are random, so the answers are gibberish; the
point is that every step of the real pipeline runs in seconds.
LoRA adapters for these bases are in :mod:`comic_emotion.testing.tiny_lora`.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

from comic_emotion.storage import replace_directory, staging_directory

# Qwen2-VL's special tokens; the first seven get ids 0..6 in this order.
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
EOS_TOKEN = "<|im_end|>"
PAD_TOKEN = "<|endoftext|>"
VOCAB_SIZE = 512

# Qwen2-VL-Instruct's ChatML template: a default system turn, and one
# <|vision_start|><|image_pad|><|vision_end|> per image that the processor expands to the patch count.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Enough prompt, JSON and emotion vocabulary for the merges to be word-like; byte-level BPE
# encodes any other text through its 256-byte alphabet.
_CORPUS = (
    "You are a helpful assistant. Look at the comic panel and answer.",
    "Which emotion does the character show? Answer with one word from the list.",
    "Options: anger, disgust, fear, joy, sadness, surprise, neutral, love, anticipation, trust.",
    'Answer in JSON: {"emotions": ["joy", "surprise"], "intensity": 3, "actor_id": "a1"}',
    '{"actor": "speaker", "emotion": "anger", "valence": -0.5, "arousal": 0.8}',
    "The manga character looks happy, the speech bubble says: What a wonderful day!",
    "A painting of a sad woman; the fine art scene is calm and quiet.",
    "0123456789 + - * / = < > ( ) [ ] { } , . ; : ! ? ' \" _ @ # $ % & | ~ ^ ` \\",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz",
)
# Two heads of 16 per text layer: mrope splits head_dim / 2 = 8 rotary frequencies over (t, h, w).
_TEXT = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 2048,
}
_MROPE_SECTION = [2, 3, 3]
# patch 14 and merge 2 are what qwen_vl_utils assumes when it resizes images to multiples of 28.
_VISION = {
    "depth": 2,
    "embed_dim": 32,
    "num_heads": 2,
    "mlp_ratio": 2,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
}
# 56x56 to 112x112 pixels: 16 to 64 patches, 4 to 16 image tokens after the 2x2 merge.
MIN_PIXELS = 56 * 56
MAX_PIXELS = 112 * 112


def _train_tokenizer(special_tokens: Sequence[str] = SPECIAL_TOKENS, *, eos_token: str = EOS_TOKEN,
                     pad_token: str = PAD_TOKEN, chat_template: str = CHAT_TEMPLATE):
    """Byte-level BPE trained on the built-in corpus, wrapped as a transformers fast tokenizer."""
    # lazy: tokenizers
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(_CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token=eos_token,
        pad_token=pad_token,
        padding_side="left",
        model_max_length=_TEXT["max_position_embeddings"],
        chat_template=chat_template,
    )


def _model_config(tokenizer, *, qwen2_5: bool = False):
    # lazy: transformers
    from transformers import Qwen2_5_VLConfig, Qwen2VLConfig

    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in SPECIAL_TOKENS}
    text = dict(
        _TEXT,
        vocab_size=len(tokenizer),
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": _MROPE_SECTION},
        bos_token_id=None,
        eos_token_id=ids[EOS_TOKEN],
        pad_token_id=ids[PAD_TOKEN],
    )
    if qwen2_5:
        # Qwen2.5-VL's tower: a SwiGLU MLP, windowed attention except in fullatt_block_indexes, and a merger
        # whose output width (out_hidden_size) is the text width.
        vision = {key: _VISION[key] for key in ("depth", "patch_size", "spatial_merge_size", "temporal_patch_size")}
        vision.update(hidden_size=_VISION["embed_dim"], intermediate_size=2 * _VISION["embed_dim"],
                      num_heads=_VISION["num_heads"], out_hidden_size=_TEXT["hidden_size"], in_channels=3,
                      window_size=112, fullatt_block_indexes=[_VISION["depth"] - 1])
        config_class = Qwen2_5_VLConfig
    else:
        # The merger projects vision features to the text width, so vision hidden_size = text hidden_size.
        vision = dict(_VISION, hidden_size=_TEXT["hidden_size"], in_channels=3)
        config_class = Qwen2VLConfig
    return config_class(
        text_config=text,
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )


def build_tiny_qwen2_vl(directory: str | Path, *, seed: int = 0, qwen2_5: bool = False) -> Path:
    """Save a tiny randomly initialised Qwen2-VL with its processor and chat template.

    The model has a 64-wide, 2-layer text decoder and a 2-block, 32-wide vision tower (about
    220k parameters); the tokenizer is a 512-token byte-level BPE trained on a built-in corpus
    and carries Qwen2-VL's special tokens and ChatML template.

    Parameters
    ----------
    directory : str or Path
        Where to save; an existing directory is replaced only once the new one is complete.
    seed : int, default 0
        Seeds ``torch.manual_seed`` before the weights are drawn: equal seeds give equal weights.
    qwen2_5 : bool, default False
        Build a Qwen2.5-VL (``Qwen2_5_VLForConditionalGeneration``, same text decoder, tokenizer and
        template) instead; :func:`build_tiny_qwen2_5_vl` is this with ``qwen2_5=True``.

    Returns
    -------
    Path
        ``directory``, loadable with ``Qwen2VLForConditionalGeneration.from_pretrained`` (or the Qwen2.5 class) and
        ``AutoProcessor.from_pretrained`` with ``HF_HUB_OFFLINE=1``.

    Notes
    -----
    transformers 5.x builds ``Qwen2VLProcessor`` with a video processor, which needs an importable
    torchvision, both here and wherever the directory is loaded. The saved image bounds
    (56x56 to 112x112 pixels) apply when the caller passes none; lmms-eval's ``qwen2_vl`` passes
    ``min_pixels=3136, max_pixels=602112``, so there a small input image keeps the patch count low.
    """
    # lazy: torch
    import torch
    from transformers import (
        GenerationConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    target = Path(directory)
    tokenizer = _train_tokenizer()
    config = _model_config(tokenizer, qwen2_5=qwen2_5)
    model_class = Qwen2_5_VLForConditionalGeneration if qwen2_5 else Qwen2VLForConditionalGeneration
    processor_class = Qwen2_5_VLProcessor if qwen2_5 else Qwen2VLProcessor
    # Restore the caller's RNG afterwards: building a fixture must not shift other seeded draws.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = model_class(config).eval()
    model.generation_config = GenerationConfig(
        eos_token_id=config.text_config.eos_token_id,
        pad_token_id=config.text_config.pad_token_id,
        do_sample=False,
    )
    image_processor = Qwen2VLImageProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    video_processor = Qwen2VLVideoProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    processor = processor_class(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=CHAT_TEMPLATE,
    )
    with staged_directory(target) as staging:
        model.save_pretrained(staging)
        processor.save_pretrained(staging)
    return target


def build_tiny_qwen2_5_vl(directory: str | Path, *, seed: int = 0) -> Path:
    """Save a tiny randomly initialised Qwen2.5-VL: :func:`build_tiny_qwen2_vl` with ``qwen2_5=True``.

    lmms-eval's ``qwen2_5_vl`` (chat by default; ``--force_simple`` for the simple class) runs it on
    CPU with ``--model_args pretrained=DIR,device=cpu,device_map=cpu,max_pixels=12544``.
    """
    return build_tiny_qwen2_vl(directory, seed=seed, qwen2_5=True)


# LLaVA-1.5's chat template (as shipped with llava-hf/llava-1.5-7b-hf): "USER: <image>\n<text> ASSISTANT:".
LLAVA_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] != 'system' %}{{ message['role'].upper() + ': '}}{% endif %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'image') %}{{ '<image>\n' }}{% endfor %}"
    "{% for content in message['content'] | selectattr('type', 'equalto', 'text') %}{{ content['text'] + ' '}}{% endfor %}"
    "{% endfor %}{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}"
)
LLAVA_SPECIAL_TOKENS = ("<pad>", "<s>", "</s>", "<image>")
# A 28x28 input of 14-pixel patches: 4 image tokens (the CLS token is dropped, strategy "default").
_LLAVA_IMAGE = 28


def build_tiny_llava(directory: str | Path, *, seed: int = 0) -> Path:
    """Save a tiny randomly initialised LLaVA-1.5 (CLIP vision tower, Llama decoder) with its processor.

    lmms-eval's ``llava_hf`` (chat by default) runs it on CPU with
    ``--model_args pretrained=DIR,device=cpu,device_map=cpu``. Same text width and depth as
    :func:`build_tiny_qwen2_vl`; a 2-layer, 32-wide CLIP tower on 28x28 inputs.

    Parameters
    ----------
    directory : str or Path
        Where to save; an existing directory is replaced only once the new one is complete.
    seed : int, default 0
        Seeds the weights (the caller's RNG state is restored).

    Returns
    -------
    Path
        ``directory``, loadable with ``LlavaForConditionalGeneration`` and ``AutoProcessor`` offline.
    """
    # lazy: torch
    import torch
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        GenerationConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    target = Path(directory)
    tokenizer = _train_tokenizer(LLAVA_SPECIAL_TOKENS, eos_token="</s>", pad_token="<pad>",
                                 chat_template=LLAVA_CHAT_TEMPLATE)
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in LLAVA_SPECIAL_TOKENS}
    text = LlamaConfig(**_TEXT, vocab_size=len(tokenizer), bos_token_id=ids["<s>"], eos_token_id=ids["</s>"],
                       pad_token_id=ids["<pad>"])
    vision = CLIPVisionConfig(hidden_size=_VISION["embed_dim"], intermediate_size=2 * _VISION["embed_dim"],
                              num_hidden_layers=_VISION["depth"], num_attention_heads=_VISION["num_heads"],
                              image_size=_LLAVA_IMAGE, patch_size=_VISION["patch_size"], projection_dim=_VISION["embed_dim"])
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=ids["<image>"],
                         vision_feature_layer=-1, vision_feature_select_strategy="default",
                         image_seq_length=(_LLAVA_IMAGE // _VISION["patch_size"]) ** 2, tie_word_embeddings=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlavaForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(eos_token_id=ids["</s>"], pad_token_id=ids["<pad>"], do_sample=False)
    image_processor = CLIPImageProcessor(size={"shortest_edge": _LLAVA_IMAGE},
                                         crop_size={"height": _LLAVA_IMAGE, "width": _LLAVA_IMAGE})
    processor = LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=_VISION["patch_size"],
                               vision_feature_select_strategy="default", chat_template=LLAVA_CHAT_TEMPLATE,
                               num_additional_image_tokens=1, image_token="<image>")
    with staged_directory(target) as staging:
        model.save_pretrained(staging)
        processor.save_pretrained(staging)
    return target


@contextlib.contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """Yield an empty directory beside ``target`` that replaces it on success and is removed on failure."""
    staging = staging_directory(target)  # umask permissions, not mkdtemp's 0700: the cache may be shared
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replace_directory(staging, target)
