"""cgen_lessons: the companion package of "Content Generation: principles and code".

Each module holds the corrected reference implementation of one concern of the course.

Infrastructure (every chapter):

- ``checks``    the argument checks every public function makes in one call at its top
- ``config``    ``Settings``: the frozen, typed dataclasses of the recipes' and benchmarks' settings
- ``utils``     seeding, thread count, device choice, ``show_source``, ``eval_mode``, timing
- ``data``      every data set (digits, MNIST, 2-D toys, Shakespeare, Tang poems, CMUdict, dates, dialogue),
                tokenizers (character, word) and batch samplers
- ``train``     the one training loop ``fit`` (resume, accumulation, mixed precision, DDP)
- ``results``   the benchmarks' saved results: ``load`` and ``save``
- ``viz``       image grids, 2-D scatter plots, loss curves, widgets
- ``exercises`` the checkers that tell a reader whether their function is right (one file per chapter)
- ``glossary``, ``errata``  the bilingual glossary and the errata index (``data/*.csv``)

Models and methods, by chapter:

- ``classic``    (01) n-gram language model, Gaussian mixture by EM, hidden Markov model
- ``lm``         (02–04) the language-model interface and the one sequence scorer
- ``rnn``, ``transformer``, ``decoding``   (02–04) recurrent and Transformer LMs, decoding methods
- ``vae``, ``gan``, ``diffusion``          (05–07) the image-model families
- ``seqvae``, ``textgan``  (08) the sequence VAE; gradient estimators, the oracle and SeqGAN
- ``metrics``    (09) evaluation metrics and two-sample tests
- ``classifier`` (05–07, 09) the MNIST judge: a CNN, separate from every model it scores
- ``apps``       (10) grapheme-to-phoneme, dialogue, constrained verse
- ``distributed``, ``scaling``  (11) data-parallel training and the programs torchrun launches
- ``recipes``    the chapters' shared training recipes (settings, model, optimiser, schedule) and the shipped
                 weights of the longer runs (``data/checkpoints/``, written by ``benchmarks/``)
- ``keras_listings`` (12) article C's Keras VAE run in Keras 3 on PyTorch (optional extra ``keras``)
"""

__version__ = "0.1.0"
