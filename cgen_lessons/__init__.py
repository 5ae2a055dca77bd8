"""cgen_lessons: the companion package of "Content Generation: principles and code".

Each module holds the corrected reference implementation of one concern of the course:

- ``utils``     seeding, device choice, ``show_source``, timing
- ``data``      digits, 2-D toy sets, text corpora, character tokenizer, LM batches
- ``train``     the one training loop (progress bar, history, evaluation, checkpoint/resume)
- ``viz``       image grids, 2-D scatter plots, loss curves
- ``exercises`` small checkers that tell a reader whether their function is right
- ``glossary``  the bilingual (English / 中文) glossary kept in ``data/glossary.csv``
- ``classic``   n-gram language model, Gaussian mixture by EM, hidden Markov model
- ``rnn``, ``transformer``, ``decoding``   recurrent and Transformer LMs, decoding methods
- ``vae``, ``gan``, ``diffusion``          the image-model families of chapters 05–07
- ``seqvae``    the sequence VAE and the remedies for posterior collapse (chapter 08)
- ``textgan``   gradient estimators for discrete samples, the synthetic oracle, SeqGAN (chapter 08)
- ``metrics``, ``recipes``                 evaluation metrics; the chapters' shared training recipes
"""

__version__ = "0.1.0"
