"""The words the book's code writes into figures and tables, in every edition's language (all chapters).

The prose is translated by Sphinx's gettext catalogues (book/locales/ru/LC_MESSAGES); what the code
writes (axis labels, legends, titles, table headers and cells, the "What we tried first" notes) is
translated here, from one table, so that one execution gives both languages: `pages.glue_figure`
renders each figure once in English and once through `translate_figure`, and the Russian build
translates the code's Markdown output with `translate` (book/_ext/languages.py). A text with a Latin
word that is neither in the table nor kept as a name raises `UntranslatedError` naming the text.
Terms follow book/locales/ru/glossary.md.
"""

from __future__ import annotations

import contextlib
import functools
import re
from typing import Iterator

import matplotlib.text
from matplotlib.figure import Figure

LANGUAGES: tuple[str, ...] = ("ru",)  # the translated editions; English is the source

RUSSIAN: dict[str, str] = {
    # CIFAR-10's classes
    "airplane": "самолёт",
    "automobile": "автомобиль",
    "bird": "птица",
    "cat": "кошка",
    "deer": "олень",
    "dog": "собака",
    "frog": "лягушка",
    "horse": "лошадь",
    "ship": "корабль",
    "truck": "грузовик",
    # figures: axes, legends, titles
    "epoch": "эпоха",
    "loss": "потери",
    "loss (cross-entropy)": "потери (перекрёстная энтропия)",
    "accuracy": "точность",
    "Accuracy": "Точность",
    "val_accuracy": "точность на валидации",
    "val_loss": "потери на валидации",
    "value": "значение",
    "count": "число",
    "density": "плотность",
    "input": "вход",
    "image": "изображение",
    "measured": "измерено",
    "stored": "в слое",
    "predicted class": "предсказанный класс",
    "true class": "истинный класс",
    "layer (input → output)": "слой (от входа к выходу)",
    "gradient norm": "норма градиента",
    "% of samples": "% примеров",
    "Avg. confidence": "Средняя уверенность",
    "Outputs": "Выходы",
    "Gap": "Разрыв",
    "Confidence": "Уверенность",
    "coverage (share of test images answered, most confident first)": (
        "покрытие (доля тестовых изображений с ответом, самые уверенные первыми)"
    ),
    "accuracy on the answered": "точность на отвеченных",
    "MC samples T": "число MC-выборок T",
    "value on the test set": "значение на тестовой выборке",
    "mutual information (nats)": "взаимная информация (наты)",
    "severity": "степень искажения",
    "noise": "шум",
    "blur": "размытие",
    "contrast": "контраст",
    "single": "одна модель",
    "temperature": "температура",
    "MC dropout": "MC-дропаут",
    "ensemble": "ансамбль",
    "right": "верные",
    "wrong": "ошибочные",
    "activation": "активация",
    "derivative": "производная",
    "gradient-descent step": "шаг градиентного спуска",
    "mean squared error": "среднеквадратичная ошибка",
    "sigmoid": "сигмоида",
    "sigmoid + BatchNorm": "сигмоида + BatchNorm",
    "relu": "ReLU",
    "confidence": "уверенность",
    "mean per channel": "среднее по каналу",
    "variance per channel": "дисперсия по каналу",
    "chosen": "выбранный класс",
    "true": "истинный класс",
    "mean": "среднее",
    "variance": "дисперсия",
    "dense": "полносвязный",
    "pool": "пулинг",
    "logits": "логиты",
    "flatten": "выпрямление",
    "output": "выход",
    "laplacian": "лапласиан",
    "sharpen": "резкость",
    "vertical edges": "вертикальные границы",
    "feature": "признак",
    "|correlation|": "|корреляция|",
    "patch features": "признаки патчей",
    "after whitening": "после отбеливания",
    "validation accuracy (%)": "точность на валидации (%)",
    "ECE (%)": "ECE (%)",
    "training minutes (2-core CPU)": "минуты обучения (CPU, 2 ядра)",
    "pixels deleted (%)": "удалено пикселей (%)",
    "still correct": "доля верных",
    "random": "случайный",
    "trained": "обученная",
    "convolutions": "свёртки",
    "convs": "свёртки",
    "score": "оценка",
    "sum": "сумма",
    "map": "карта",
    "gradient": "градиент",
    "feature maps\nA (8×8×K)": "карты признаков\nA (8×8×K)",
    "dense layers\nscore $y^c$": "полносвязные слои\nоценка $y^c$",
    "$\\alpha_k$ = mean of\n$\\partial y^c/\\partial A^k$": (
        "$\\alpha_k$ = среднее\n$\\partial y^c/\\partial A^k$"
    ),
    "heatmap\n(upsampled)": "тепловая карта\n(увеличенная)",
    "input x": "вход x",
    "output y": "выход y",
    "confidence (max probability)": "уверенность (максимальная вероятность)",
    "pre-activation value (input to ReLU)": "значение до активации (вход ReLU)",
    "moving average stored in the layer": "скользящее среднее, хранимое в слое",
    "as trained": "как обучена",
    "temperature-scaled": "после температурного шкалирования",
    "correct": "верные",
    "incorrect": "ошибочные",
    # table headers
    "model": "модель",
    "layer": "слой",
    "type": "тип",
    "output shape": "форма выхода",
    "parameters": "параметры",
    "trainable": "обучаемые",
    "non-trainable": "необучаемые",
    "total": "всего",
    "epochs": "эпохи",
    "test accuracy": "точность на тесте",
    "test accuracy (95% interval)": "точность на тесте (95%-й интервал)",
    "test loss": "потери на тесте",
    "manifest accuracy": "точность из манифеста",
    "mean ± sd over seeds": "среднее ± ст. откл. по сидам",
    "val accuracy": "точность на валидации",
    "minutes": "минуты",
    "train accuracy at best epoch": "точность на обучении в лучшую эпоху",
    "val accuracy at best epoch": "точность на валидации в лучшую эпоху",
    "gap (points)": "разрыв (п. п.)",
    "mean conf.": "ср. уверенность",
    "T (fitted on validation)": "T (подобрана на валидации)",
    "ECE change": "изменение ECE",
    "T on all 5,000": "T на всех 5000",
    "T on half A": "T на половине A",
    "T on half B": "T на половине B",
    "test ECE (all)": "ECE на тесте (все)",
    "mean confidence": "средняя уверенность",
    "ECE (95% interval)": "ECE (95%-й интервал)",
    "comparison": "сравнение",
    "accuracy difference": "разница точности",
    "ECE difference": "разница ECE",
    "NLL difference": "разница NLL",
    "runs (seeds)": "запуски (сиды)",
    "test accuracy, %": "точность на тесте, %",
    "ECE, %": "ECE, %",
    "ECE after T": "ECE после T",
    "accuracy gain over one member": "прирост точности над одним членом",
    "NLL change": "изменение NLL",
    "mixed: one of each": "смешанный: по одной каждого вида",
    "receptive field (pixels)": "рецептивное поле (пиксели)",
    "jump (pixels)": "шаг сетки (пиксели)",
    "formula": "формула",
    "training minutes": "минуты обучения",
    "CPU (2 cores)": "CPU (2 ядра)",
    "precision": "точность вычислений",
    "mixed bfloat16": "смешанная bfloat16",
    "fast: whole runs": "fast: запуски целиком",
    "fast: its steps": "fast: только шаги",
    "fast_short: whole runs": "fast_short: запуски целиком",
    "fast_short: its steps": "fast_short: только шаги",
    "port: images/s": "порт: изображений/с",
    "original: images/s": "оригинал: изображений/с",
    "port / original": "порт / оригинал",
    "port: share of peak": "порт: доля пика",
    "original: share of peak": "оригинал: доля пика",
    "with TTA": "с TTA",
    "step": "шаг",
    "trick (cumulative)": "приём (накопительно)",
    "val accuracy (95%)": "точность на валидации (95%)",
    "change (points)": "изменение (п. п.)",
    "ECE (95%)": "ECE (95%)",
    "BatchNorm layer": "слой BatchNorm",
    "median seconds per epoch": "медиана секунд на эпоху",
    "values per image": "значений на изображение",
    "share of the extra time per image": "доля добавочного времени на изображение",
    "predicted as": "предсказан как",
    "test images": "тестовых изображений",
    "higher": "выше",
    "lower": "ниже",
    "indistinguishable": "неразличимы",
    "What we tried first": "Что мы попробовали сначала",
    "Kept instead:": "Оставили вместо этого:",
    "probabilities": "вероятности",
    "rescale": "масштабирование",
    # the notes "What we tried first" (cnnbook.core.recipe.TRIED_FIRST, cnnbook.airbench.hyp.TRIED_FIRST)
    "These were single development runs, logged in": "Это были единичные пробные запуски; они записаны в",
    "Single development runs, logged in": "Единичные пробные запуски; они записаны в",
    "and not rerun": "и не повторялись",
    "Dropout p=0.5 after every pooling block as well as on the dense inputs; learning rate x0.3 "
    "after 2 stale epochs, early-stopping patience 6": (
        "Dropout с p=0.5 после каждого блока пулинга и на входах полносвязных слоёв; скорость "
        "обучения ×0.3 после 2 эпох без улучшения, терпение ранней остановки 6"
    ),
    "the Dropout model underfit: 72% validation accuracy after 17 epochs, training accuracy below "
    "validation, the learning rate already cut twice; the run was stopped": (
        "модель с дропаутом недообучилась: 72% точности на валидации после 17 эпох, точность на "
        "обучении ниже валидационной, скорость обучения уже дважды снижена; запуск остановлен"
    ),
    "Dropout only on the inputs of the two dense layers, and the gentler schedule above": (
        "дропаут только на входах двух полносвязных слоёв и более мягкое расписание, описанное выше"
    ),
    "BatchNorm model with early stopping on the validation loss, patience 4": (
        "модель BatchNorm с ранней остановкой по потерям на валидации, терпение 4"
    ),
    "the validation loss rose within a few epochs while the accuracy still improved; the run "
    "stopped early at 71.2% test accuracy (an orientation trial, not rerun)": (
        "потери на валидации росли уже через несколько эпох, хотя точность ещё улучшалась; запуск "
        "рано остановился на точности 71.2% на тесте (ориентировочная проба, не повторялась)"
    ),
    "early stopping on validation accuracy, patience 8": (
        "ранняя остановка по точности на валидации, терпение 8"
    ),
    "XLA compilation of the training step (jit_compile=True)": (
        "компиляция шага обучения в XLA (jit_compile=True)"
    ),
    "2.3x slower on this CPU: 332 vs 771 images/s (fast_short), 186 vs 420 (fast)": (
        "в 2.3 раза медленнее на этом процессоре: 332 против 771 изобр./с (fast_short), "
        "186 против 420 (fast)"
    ),
    "no XLA": "без XLA",
    "the exact (erf) GELU, as PyTorch's default": "точная GELU (через erf), как по умолчанию в PyTorch",
    "771 images/s for fast_short, against 845 with the tanh approximation": (
        "у fast_short — 771 изобр./с против 845 с приближением через tanh"
    ),
    "the tanh approximation (within 0.001 of the exact curve)": (
        "приближение через tanh (отличается от точной кривой не более чем на 0.001)"
    ),
    "every layer in bfloat16, input scaling and whitening included": (
        "все слои в bfloat16, включая масштабирование входа и отбеливание"
    ),
    "fast_short, seed 42: 88.3% validation accuracy, 87.9% test, 88.8% with TTA, 8.8 min": (
        "fast_short, сид 42: точность 88.3% на валидации, 87.9% на тесте, 88.8% с TTA, 8.8 мин"
    ),
    "the input side in float32 (the whitening amplifies small-variance directions up to 45x, and "
    "bfloat16 keeps 8 bits of mantissa): 88.7% validation, a change within the noise of one run, "
    "kept because it costs nothing": (
        "входная часть во float32 (отбеливание усиливает направления с малой дисперсией до 45 раз, "
        "а bfloat16 хранит 8 бит мантиссы): 88.7% на валидации — изменение в пределах шума одного "
        "запуска; оставлено, потому что ничего не стоит"
    ),
    # the ablation's steps (cnnbook.airbench.hyp.ABLATION)
    "the book's baseline, Adam, batch 128": "базовая модель книги, Adam, батч 128",
    "airbench's net, wider (64/128/128), GELU": "сеть airbench, шире (64/128/128), GELU",
    "+ BatchNorm (no scale)": "+ BatchNorm (без масштаба)",
    "+ flips and 2-pixel shifts": "+ отражения и сдвиги на 2 пикселя",
    "+ label smoothing 0.2": "+ сглаживание меток 0.2",
    "+ Nesterov SGD, batch 1024, triangular schedule": (
        "+ SGD Нестерова, батч 1024, треугольное расписание"
    ),
    "+ whitening layer (frozen)": "+ слой отбеливания (замороженный)",
    "+ lookahead (= fast_short)": "+ lookahead (= fast_short)",
    "+ test-time augmentation": "+ аугментация при тестировании",
    # the live explorer's interface (cnnbook.book.explorer.UI_WORDS)
    "Model": "Модель",
    "Choose a model to load it in your browser.": "Выберите модель, чтобы загрузить её в браузер.",
    "Loading TensorFlow.js and the {} model…": "Загружаются TensorFlow.js и модель {}…",
    "{} is ready ({} backend). Pick an image.": "Модель {} готова (бэкенд {}). Выберите изображение.",
    "Computed in {} ms.": "Вычислено за {} мс.",
    "The explorer could not start: {}": "Обозреватель не запустился: {}",
    "Test images": "Тестовые изображения",
    "marked: the Visualization chapter's most confident mistakes": "отмечены: самые уверенные ошибки из главы «Визуализация»",
    "true class: {}": "на самом деле: {}",
    "Draw or upload": "Нарисуйте или загрузите",
    "Clear": "Очистить",
    "Use the drawing": "Взять рисунок",
    "Upload an image": "Загрузить изображение",
    "Colour": "Цвет",
    "What the network gets (32 × 32)": "Что получает сеть (32 × 32)",
    "Probabilities": "Вероятности",
    "without temperature": "без температуры",
    "with temperature T = {}": "с температурой T = {}",
    "Click a class for its Grad-CAM.": "Нажмите на класс, чтобы увидеть его Grad-CAM.",
    "Grad-CAM for the class {}": "Grad-CAM для класса {}",
    "predicted": "предсказание",
    "Activation maps": "Карты активаций",
    "Layer": "Слой",
    "the {} channels with the largest mean activation of {}": "{} каналов слоя {} с наибольшей средней активацией",
    "channel {}": "канал {}",
    "The live explorer is not in this build: it needs Node.js 18 or newer with npm; "
    "install them and build the book again.": (
        "Живого обозревателя в этой сборке нет: ему нужен Node.js 18 или новее с npm; "
        "установите их и соберите книгу снова."
    ),
}

# Texts built from parts: the English template, its Russian; each {} is translated in turn.
PATTERNS: tuple[tuple[str, str], ...] = (
    ("{} (moving {})", "{} (скользящие {})"),
    ("{} train", "{}, обучение"),
    ("{} validation", "{}, валидация"),
    ("{}\ntrue: {}", "{}\nна самом деле: {}"),
    ("true: {}", "на самом деле: {}"),
    ("{}?\n({})", "{}?\n({})"),
    ("channel {}", "канал {}"),
    ("block {}", "блок {}"),
    ("ECE = {}", "ECE = {}"),
    ("{}′", "{}′"),
    ("{}: {}", "{}: {}"),
    ("{}, {}", "{}, {}"),
    ("{} ({})", "{} ({})"),
    ("{} − {}", "{} − {}"),
    ("{}. {}", "{}. {}"),
    ("{} {}%", "{} {}%"),
    ("{} ensemble", "ансамбль {}"),
    ("{} × {} seeds", "{}, сидов: {}"),
    ("{} points", "{} п. п."),
    ("{}, AVX2 only", "{}, только AVX2"),
    ("p = {}", "p = {}"),
    ("{} higher", "{} выше"),
    ("{} lower", "{} ниже"),
    ("{} indistinguishable", "{} неразличимы"),
    ("measured on {} training images", "измерено на обучающих изображениях: {}"),
    (
        "first epoch with val accuracy ≥ {}",
        "первая эпоха с точностью на валидации ≥ {}",
    ),
)

# Latin-script words that stay in every language: model, method and library names, units, symbols.
KEPT: frozenset[str] = frozenset(
    "baseline dropout batchnorm fast fast_short BatchNorm Dropout ReLU GELU softmax tanh Grad-CAM "
    "Grad CAM ECE MCE NLL Brier McNemar TTA MC MoRF LeRF Adam SGD XLA CPU GPU RGB CIFAR-10 CIFAR "
    "Keras TensorFlow NumPy PyTorch Node npm airbench lookahead bfloat16 float32 EMA p T A B K "
    "None True False erf Activation Dense Flatten Rescaling InputLayer AMD EPYC Intel Xeon AVX2 "
    "AVX-512".split()  # Keras's layer types and shapes
)
_LATIN = re.compile(
    r"(?<![\w.])[A-Za-z][A-Za-z0-9_']*(?:-[A-Za-z0-9]+)*"
)  # a word, not the tail of one: 45x, 4.9e-08, .pdf
_MATH = re.compile(r"\$[^$]*\$")
_IDENTIFIER = re.compile(
    r"[A-Za-z]\w*[_\d]\w*|[A-Z][a-z]+[A-Z]\w*"
)  # block1_conv, Conv2D, MaxPooling2D


_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_DECIMAL = re.compile(r"(?<=\d)\.(?=\d)")


def local_numbers(text: str, language: str, decimals: bool = True) -> str:
    """Numbers as the language writes them: in Russian 50,000 -> 50 000 (no-break space) and, with
    decimals, 0.95 -> 0,95 (book/_ext/languages.py for the prose; figures keep the decimal point of
    their tick labels, so only the thousands change there)."""
    if language == "en":
        return text
    text = _THOUSANDS.sub("\u00a0", text)
    return _DECIMAL.sub(",", text) if decimals else text


def glue_key(key: str, language: str) -> str:
    """The glue key of a figure's rendering in a translated edition (pages.glue_figure, book/_ext)."""
    return f"{key}__{language}"


class UntranslatedError(ValueError):
    """A text the code writes has a Latin word that cnnbook.book.words does not translate."""


def latin_words(text: str) -> list[str]:
    """The Latin-script words of a text that would stay untranslated (not names, identifiers, math)."""
    words = _LATIN.findall(_MATH.sub(" ", text))
    return [
        w
        for w in words
        if len(w) > 1 and w not in KEPT and not _IDENTIFIER.fullmatch(w)
    ]


@functools.cache
def _compiled_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """PATTERNS as anchored regular expressions, one group per {}."""
    return tuple(
        (
            re.compile(
                "".join(
                    "(.+?)" if part == "{}" else re.escape(part)
                    for part in re.split(r"(\{\})", english)
                )
                + "$",
                re.S,
            ),
            russian,
        )
        for english, russian in PATTERNS
    )


def _translate(text: str, table: dict[str, str]) -> str | None:
    """text in the table's language, or None when a part of it is not in the table."""
    if text in table:
        return table[text]
    if not latin_words(text):
        return text
    for pattern, template in _compiled_patterns():
        match = pattern.fullmatch(text)
        if match:
            parts = [_translate(group, table) for group in match.groups()]
            if all(part is not None for part in parts):
                return template.format(*parts)
    return None


def translate(text: str, language: str = "ru") -> str:
    """One text the code writes, in `language` (English: unchanged); UntranslatedError when it can't."""
    if language == "en":
        return text
    if language not in LANGUAGES:
        raise ValueError(
            f"no translation table for language {language!r}: choose one of en, {', '.join(LANGUAGES)}"
        )
    plain = text.replace(
        "\u2019", "'"
    )  # Sphinx's smart apostrophe: the table has the plain one
    for edges in (
        r"\s",
        r"\s.,:;*",
        r"\s.,:;()*",
    ):  # the whole text, then without its punctuation
        lead, core, trail = re.fullmatch(
            f"([{edges}]*)(.*?)([{edges}]*)", plain, re.S
        ).groups()
        translated = _translate(core, RUSSIAN) if core else core
        if translated is not None:
            return lead + translated + trail
    raise UntranslatedError(
        f"no {language} translation for {core!r}: add it to RUSSIAN or PATTERNS in cnnbook/book/words.py"
    )


@contextlib.contextmanager
def translate_figure(figure: Figure, language: str = "ru") -> Iterator[Figure]:
    """The figure with every text (titles, labels, legends, tick labels) in `language`, restored after.

    Every untranslated text of the figure is named in one UntranslatedError."""
    texts = [t for t in figure.findobj(matplotlib.text.Text) if t.get_text()]
    originals = [t.get_text() for t in texts]
    missing = []
    try:
        for artist, text in zip(texts, originals):
            try:
                artist.set_text(
                    local_numbers(translate(text, language), language, False)
                )
            except UntranslatedError:
                missing.append(text)
        if missing:
            raise UntranslatedError(
                f"figure texts with no {language} translation: {sorted(set(missing))!r}; "
                "add them to RUSSIAN or PATTERNS in cnnbook/book/words.py"
            )
        yield figure
    finally:
        for artist, text in zip(texts, originals):
            artist.set_text(text)
