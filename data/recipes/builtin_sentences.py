#!/usr/bin/python3
"""Writes the synthesis plan of the built-in corpus: one line per utterance.

Sentences are composed from the word lists below (written for this project) by a small
seeded grammar, so the text has no outside source and no licence other than the project's.
Output columns (tab-separated): id, split, engine, voice, speed, pitch, tempo, gain_db, text.
Usage: builtin_sentences.py N_TRAIN N_TEST SEED > plan.tsv
"""
import random
import sys

NOUNS = """apple baby bag ball banana basket bear bed bell bicycle bird blanket boat book bottle box boy
bread bridge brother bucket bus butter button cake camera candle car carpet cat chair cheese
chicken child clock cloud coat coffee computer cookie cow cup desk dog doll door dragon dress duck
egg elephant engine farmer feather fence field finger fish flag flower forest fox frog garden gate
giraffe girl glass glove goat guitar hammer hat horse house island jacket jar jelly jewel judge
juice kettle key king kitchen kite knife ladder lamp lemon letter lion lizard map market monkey
moon mountain mouse needle nest newspaper ocean onion orange owl oyster painter pancake panda
paper parrot pencil penguin pepper piano picture pillow pizza plane plate pocket potato puppy
queen question quilt rabbit radio river robot rocket rope sailor sandwich scarf school shadow
sheep shell ship shoe sister spoon squirrel star stone street sugar sweater table taxi teacher
tiger toast tomato tower train tree truck turtle umbrella valley van vase village violin wagon
wallet watch whale whistle window wizard wolf yacht yogurt zebra zipper zoo""".split()

PLURAL_EXC = {"child": "children", "mouse": "mice", "sheep": "sheep", "fish": "fish",
              "knife": "knives", "wolf": "wolves", "shelf": "shelves", "potato": "potatoes",
              "tomato": "tomatoes", "box": "boxes", "fox": "foxes", "glass": "glasses",
              "watch": "watches", "sandwich": "sandwiches", "bus": "buses", "dress": "dresses",
              "baby": "babies", "puppy": "puppies", "lady": "ladies", "jelly": "jellies",
              "valley": "valleys", "key": "keys", "monkey": "monkeys", "turkey": "turkeys",
              "village": "villages", "judge": "judges", "scarf": "scarves", "yacht": "yachts",
              "whistle": "whistles", "sweater": "sweaters", "yogurt": "yogurts", "zoo": "zoos",
              "quilt": "quilts", "kettle": "kettles"}

ADJECTIVES = """big small old young quick slow happy sad quiet loud bright dark warm cold soft hard
heavy light clean dirty empty full fancy funny gentle brave clever lazy busy sleepy hungry thirsty
tiny huge round square smooth rough fresh frozen golden silver purple yellow green blue red black
white brown orange pink shiny strange famous friendly jolly cozy crazy fuzzy dizzy juicy zesty
wild tame proud kind noisy sunny rainy windy snowy foggy sweet sour bitter spicy wet dry new
lucky plain velvet wooden woolen wicked wise exact extra""".split()

PAST_VERBS = """found saw took bought sold painted washed kicked carried dropped lifted pushed pulled
opened closed fixed mixed packed watched liked loved hated visited cleaned chased caught threw
grabbed hid moved borrowed returned wrapped fetched dragged joined squeezed zipped juggled
quizzed waxed boxed tickled hugged followed noticed picked""".split()

BASE_VERBS = """find take bring buy sell paint wash carry drop lift push pull open close fix mix pack
watch clean catch throw grab hide move borrow return wrap fetch drag squeeze zip juggle follow
pick check count draw fold hold keep leave put show try""".split()

INTRANSITIVE = """ran jumped slept laughed danced sang waited walked smiled cried swam shouted
whispered yawned sneezed wobbled froze vanished arrived escaped relaxed""".split()

NAMES = """anna ben carla david emma felix grace henry isabel jack kevin laura max nina oscar paul
quinn rosa sam tina victor wendy xavier yusuf zoe james olivia lucas mia noah sophia""".split()

PLACES = ["the park", "the beach", "the kitchen", "the garden", "the market", "the station",
          "the library", "the forest", "the village", "the river", "the hotel", "the office",
          "the school", "the museum", "the harbour", "the farm", "the desert", "the jungle",
          "the zoo", "the bakery", "the airport", "the castle", "the square", "the valley"]
PREPS = ["on", "under", "behind", "near", "beside", "inside", "above", "below", "next to"]
NUMBERS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
           "twelve", "twenty", "a dozen"]
TIMES = ["today", "yesterday", "tonight", "this morning", "last night", "on monday", "on tuesday",
         "on wednesday", "on thursday", "on friday", "on saturday", "on sunday", "in january",
         "in june", "in july", "in october", "in november", "every day", "at noon", "at midnight"]
ADVERBS = "quickly slowly quietly happily loudly gently carefully suddenly finally really".split()
# contractions followed by a verb in its base form
MODALS = ["i can't", "we don't", "they won't", "you shouldn't", "she didn't", "he doesn't",
          "they'll", "i'd", "we'll", "you'd", "she'll", "we couldn't", "he wouldn't"]
# contractions followed by a noun phrase
THERE = ["it's", "that's", "there's", "here's", "what's"]


def plural(n):
    return PLURAL_EXC.get(n, n + "s")


def a(word):
    return ("an " if word[0] in "aeiou" else "a ") + word


def sentence(r):
    c = r.choice
    t = r.randrange(16)
    if t == 0:
        return f"the {c(ADJECTIVES)} {c(NOUNS)} {c(PAST_VERBS)} the {c(NOUNS)}"
    if t == 1:
        return f"{c(NAMES)} {c(PAST_VERBS)} {a(c(ADJECTIVES))} {c(NOUNS)}"
    if t == 2:
        return f"please {c(BASE_VERBS)} the {c(NOUNS)} {c(PREPS)} the {c(NOUNS)}"
    if t == 3:
        return f"{c(NUMBERS)} {c(ADJECTIVES)} {plural(c(NOUNS))} are {c(PREPS)} the {c(NOUNS)}"
    if t == 4:
        return f"where is the {c(ADJECTIVES)} {c(NOUNS)}"
    if t == 5:
        if r.random() < 0.5:
            return f"{c(THERE)} {a(c(ADJECTIVES))} {c(NOUNS)} in {c(PLACES)}"
        return f"{c(MODALS)} {c(BASE_VERBS)} the {c(NOUNS)} {c(TIMES)}"
    if t == 6:
        return f"the {c(NOUNS)} {c(INTRANSITIVE)} {c(TIMES)}"
    if t == 7:
        return f"{c(NAMES)} and {c(NAMES)} went to {c(PLACES)} {c(TIMES)}"
    if t == 8:
        return f"do you want {a(c(ADJECTIVES))} {c(NOUNS)}"
    if t == 9:
        return f"the {c(NOUNS)} is {c(ADJECTIVES)} and {c(ADJECTIVES)}"
    if t == 10:
        return f"{c(NAMES)} {c(INTRANSITIVE)} {c(ADVERBS)} in {c(PLACES)}"
    if t == 11:
        return f"my {c(NOUNS)} is {c(PREPS)} the {c(ADJECTIVES)} {c(NOUNS)}"
    if t == 12:
        return f"{c(NAMES)}'s {c(NOUNS)} {c(INTRANSITIVE)}"
    if t == 13:
        return f"i saw {c(NUMBERS)} {plural(c(NOUNS))} {c(TIMES)}"
    if t == 14:
        return f"can you {c(BASE_VERBS)} {a(c(NOUNS))} for {c(NAMES)}"
    return f"the {c(NOUNS)} and the {c(NOUNS)} {c(INTRANSITIVE)} {c(ADVERBS)}"


ESPEAK_BASE = ["en-us", "en-us", "en-gb", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-gb-x-gbclan"]
ESPEAK_VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
                   "klatt", "klatt3", "Alex", "annie", "michael", "steph", "linda", "john",
                   "david", "robert", "paul", "quincy", "max", "edward", "aunty"]
FLITE_VOICES = ["kal", "kal16", "awb", "rms", "slt"]


def voice(r):
    """(engine, voice, speed, pitch): espeak speed in words/min and pitch 0-99; flite speed is
    a duration stretch (x100) and pitch a target mean F0 in Hz (0 = the voice's own)."""
    if r.random() < 0.62:
        v = r.choice(ESPEAK_BASE)
        var = r.choice(ESPEAK_VARIANTS)
        return "espeak", v + ("+" + var if var else ""), r.randrange(135, 186), r.randrange(25, 76)
    v = r.choice(FLITE_VOICES)
    return "flite", v, r.randrange(88, 116), 0


def main():
    n_train, n_test, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    r = random.Random(seed)
    seen = set()
    texts = []
    while len(texts) < n_train + n_test:
        s = sentence(r)
        if s not in seen:
            seen.add(s)
            texts.append(s)
    for i, text in enumerate(texts):
        split = "test" if i < n_test else "train"
        uid = f"{split}-{i if split == 'test' else i - n_test:05d}"
        engine, v, speed, pitch = voice(r)
        tempo = r.choice([0.95, 1.0, 1.0, 1.0, 1.05, 1.1])
        gain = r.choice([-6, -4, -2, 0])
        print("\t".join([uid, split, engine, v, str(speed), str(pitch), str(tempo), str(gain), text]))


if __name__ == "__main__":
    main()
