"""The words of `make_devset.py`: facts that change and how people say them, dated events, relatives, everyday
tasks, and the assistant's chatty sentences. Written for this set by hand; no dataset's text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Slot:
    """A fact of one's life that can change: its values, how it is said first, how a change is said, and how a
    person would ask for it later."""

    name: str
    topic: str
    values: list[str]
    say: list[str]
    change: list[str]
    ask: list[str]
    echo: list[str]


@dataclass(frozen=True)
class Event:
    """Something that happens on a day: said after ({when} is a past date phrase) or before (a future one)."""

    topic: str
    past: list[str]
    future: list[str]
    ask_past: list[str]
    ask_future: list[str]
    echo: str
    details: tuple[str, ...] = ("",)
    """What {x} in its sentences can be: the same kind of event happens more than once (two trips, two concerts)."""


@dataclass(frozen=True)
class Relative:
    name: str
    relation: str
    pronoun: str
    job: str
    city: str


@dataclass(frozen=True)
class Task:
    """Everyday help: what the person asks ({key} filled from `fill`), and the topic of the advice."""

    topic: str
    asks: list[str]
    fill: dict[str, list[str]]


SLOTS = [
    Slot("gym", "fitness",
         ["Crunch", "the Y", "Planet Fitness", "Equinox", "Gold's Gym", "Boulder Barn", "the rec center on Elm",
          "Anytime Fitness", "Orangetheory", "Ironworks CrossFit"],
         ["I've been training at {v} most mornings.", "I got a membership at {v} last month.",
          "My gym is {v}, it's five minutes from home.", "I lift at {v} three times a week now.",
          "Working out at {v} before work has been good for my head."],
         ["I cancelled my membership at {old} and switched to {v}.", "I quit {old}, I lift at {v} now.",
          "{v} is my new gym, {old} got way too crowded.", "I've been going to {v} instead of {old} lately.",
          "Moved my workouts over to {v} this week."],
         ["Where do I work out these days?", "Which gym am I going to now?", "Where do I exercise at the moment?",
          "What's the name of the place I train?"],
         ["you're training at {v}", "{v} is your spot now", "you've got {v} in your routine"]),
    Slot("work", "work",
         ["Brightline", "Stripe", "the city library", "Fold Studio", "St. Mary's hospital", "Acme Logistics",
          "Hearth Bakery", "the university", "Shopify", "Baker & Lowe"],
         ["Work at {v} has been hectic this week.", "I've been at {v} for about two years.",
          "I work at {v}, mostly on the scheduling side.", "My team at {v} is finally hiring."],
         ["I started a new job at {v}!", "I left {old} and joined {v}.", "First week at {v} done, it's so different "
          "from {old}.", "I handed in my notice at {old}, I'm at {v} from Monday.", "I'm with {v} now, not {old}."],
         ["Where am I working now?", "Who's my employer these days?", "What company do I work for at the moment?",
          "Where's my current job?"],
         ["you're at {v}", "things at {v} are moving", "{v} is lucky to have you"]),
    Slot("home", "home",
         ["Portland", "Austin", "Lisbon", "Denver", "Toronto", "Leeds", "Brooklyn", "Melbourne", "Chicago", "Oakland"],
         ["Here in {v} it's been raining all week.", "I live in {v}, near the river.",
          "I moved to {v} a few years ago and never left.", "Rent in {v} keeps going up."],
         ["We finally moved to {v}!", "I relocated to {v} for a fresh start, {old} feels far away now.",
          "Packing is done, we're officially living in {v}.", "I'm settled in {v} now, unlike {old} it's sunny.",
          "Leaving {old} was hard but {v} already feels like home."],
         ["Which city do I live in now?", "Where am I based these days?", "Where's home for me at the moment?",
          "What city did I end up living in?"],
         ["you're in {v}", "{v} sounds lovely", "home is {v}"]),
    Slot("partner", "relationships",
         ["Sam", "Jordan", "Alex", "Riley", "Noor", "Theo", "Camille", "Mateo"],
         ["My partner {v} made dinner tonight.", "{v} and I have been together almost a year.",
          "My girlfriend {v} thinks I work too much.", "I've been seeing {v}, it's going really well."],
         ["{old} and I broke up. I'm seeing {v} now, early days.", "I broke up with {old}. My girlfriend {v} is "
          "great though.", "Things ended with {old}; I met {v} at a friend's party and we've been dating since.",
          "{v} and I are official now, after the whole thing with {old}."],
         ["Who am I dating now?", "What's my partner's name these days?", "Who am I in a relationship with?"],
         ["you and {v}", "{v} sounds good for you", "you're happy with {v}"]),
    Slot("car", "transport",
         ["Honda Civic", "Subaru Outback", "Toyota Prius", "Mini Cooper", "Ford Fiesta", "Tesla Model 3",
          "Volvo wagon"],
         ["My {v} needs new tires.", "I drive a {v}, nothing fancy.", "Took the {v} in for a service today."],
         ["I traded my {old} for a {v}.", "Sold the {old}, I've got a {v} now.", "The new {v} drives so much "
          "better than the {old} did."],
         ["What car do I drive these days?", "Which car do I have now?", "What am I driving at the moment?"],
         ["the {v}", "you've got a {v}"]),
    Slot("instrument", "hobbies",
         ["the cello", "guitar", "the piano", "the ukulele", "drums", "the violin", "the saxophone"],
         ["I've been learning {v} on Sunday afternoons.", "I started taking lessons for {v}.",
          "Practising {v} is the best part of my week."],
         ["I gave up on {old}, I'm learning {v} instead.", "Switched from {old} to {v}, my teacher is great.",
          "{v} is my new thing, {old} never clicked."],
         ["What instrument am I learning these days?", "Which instrument do I practise now?",
          "What am I taking music lessons for?"],
         ["you're learning {v}", "{v} is a lovely choice"]),
    Slot("language", "learning",
         ["Spanish", "Japanese", "Italian", "German", "Portuguese", "Korean", "French"],
         ["I'm learning {v} on my lunch breaks.", "My {v} streak is at forty days.",
          "I signed up for an evening {v} class."],
         ["I paused {old} and started {v}.", "I'm studying {v} now instead of {old}.",
          "Dropped {old}, {v} makes more sense for the trip."],
         ["Which language am I studying now?", "What language am I learning at the moment?"],
         ["you're studying {v}", "{v} is a good one to learn"]),
    Slot("book", "books",
         ["The Overstory", "Piranesi", "Middlemarch", "Project Hail Mary", "The Remains of the Day", "Circe",
          "A Gentleman in Moscow", "Station Eleven"],
         ["I'm reading {v} before bed.", "I just started {v}, it's slow but beautiful.",
          "My book club picked {v} this month."],
         ["Finished {old}, now I'm on {v}.", "I put {old} down and picked up {v}.", "Started {v} last night."],
         ["What book am I reading right now?", "Which novel am I in the middle of?", "What am I reading lately?"],
         ["you're into {v}", "{v} is a great pick"]),
    Slot("diet", "food",
         ["vegetarian", "vegan", "pescatarian", "gluten-free", "low-carb", "dairy-free"],
         ["I've been {v} since the spring.", "I went {v} after that documentary.",
          "Cooking {v} every night is easier than I thought."],
         ["I'm not {old} anymore, I'm {v} now.", "Switched from {old} to {v}, my doctor suggested it.",
          "I've been eating {v} for a few weeks instead of {old}."],
         ["What's my diet like these days?", "How am I eating at the moment, any diet?", "What do I eat now?"],
         ["you're eating {v}", "{v} cooking is fun"]),
    Slot("commute", "transport",
         ["by bike", "on the train", "by bus", "on foot", "by car", "on an e-scooter"],
         ["I get to work {v} most days.", "Commuting {v} takes about half an hour.",
          "I've been going in {v}, it clears my head."],
         ["I stopped going {old}, I commute {v} now.", "I get in {v} these days, not {old}.",
          "Now that I'm going {v}, I'm never late."],
         ["How do I get to work these days?", "How am I commuting at the moment?"],
         ["you're commuting {v}", "going {v} sounds nice"]),
    Slot("pet", "pets",
         ["Biscuit", "Pepper", "Miso", "Luna", "Otis", "Maple", "Waffles", "Clementine"],
         ["We adopted a puppy named {v}.", "My cat {v} knocked everything off the shelf again.",
          "{v}, my dog, refuses to walk in the rain."],
         [],
         ["What's my pet called?", "What's the name of my dog or cat?", "What did we name our pet?"],
         ["{v} sounds like a character", "give {v} a scratch from me"]),
    Slot("coffee", "food",
         ["an oat flat white", "a cortado", "black coffee", "a chai latte", "an iced americano", "a matcha latte"],
         ["My usual order is {v}.", "I can't start the day without {v}.", "I always get {v} at the corner cafe."],
         ["I switched from {old} to {v}.", "My order is {v} now, {old} got boring.", "I'm a {v} person now."],
         ["What's my usual coffee order?", "What do I order at the cafe these days?"],
         ["{v}, nice", "{v} is a classic"]),
    Slot("music", "music",
         ["jazz", "old soul records", "ambient electronic music", "bluegrass", "nineties hip hop", "opera"],
         ["I've been obsessed with {v} lately.", "I listen to {v} while I cook.", "Lately it's all {v} for me."],
         [],
         ["What kind of music am I into?", "What have I been listening to lately?"],
         ["{v} is a mood", "you're into {v}"]),
]

EVENTS = [
    Event("fitness", ["I ran my first 10k {when}, I'm so sore.", "{when} I finished my first 10k race!"],
          ["My first 10k race is {when}.", "I'm running a 10k {when}, wish me luck."],
          ["When did I do my first 10k?", "When did I run that race?"], ["When is my 10k race?"],
          "your first 10k"),
    Event("work", ["I got promoted {when}!", "{when} my boss told me I'm getting the senior role."],
          ["My promotion review is {when}.", "I find out about the promotion {when}."],
          ["When did I get promoted?", "When was I told about the senior role?"], ["When is my promotion review?"],
          "the promotion"),
    Event("family", ["My sister's wedding was {when}, I cried through the vows.",
                     "We went to my sister's wedding {when}."],
          ["My sister's wedding is {when}!", "My sister gets married {when}."],
          ["When was my sister's wedding?", "When did my sister get married?"], ["When is my sister's wedding?"],
          "your sister's wedding"),
    Event("health", ["I had a {x} appointment {when}, all fine in the end.", "Went to the {x} {when}."],
          ["I have a {x} appointment {when}.", "{x} {when}, ugh."],
          ["When did I last see the {x}?", "When was my {x} appointment?"],
          ["When's my next {x} appointment?"], "the appointment",
          ("dentist", "eye doctor", "dermatologist", "physio")),
    Event("travel", ["I flew back from {x} {when}.", "{when} I got home from the {x} trip."],
          ["I fly to {x} {when}!", "The {x} trip starts {when}."],
          ["When did I get back from {x}?", "When did I return from my trip to {x}?"],
          ["When do I leave for {x}?"], "your trip", ("Mexico City", "Lisbon", "Kyoto", "Edinburgh", "Vienna")),
    Event("hobbies", ["I started a pottery class {when}.", "{when} was my first pottery class, my bowl collapsed."],
          ["My pottery class starts {when}.", "I signed up for pottery, it begins {when}."],
          ["When did I start pottery?", "When was my first ceramics class?"], ["When does my pottery course begin?"],
          "pottery"),
    Event("family", ["My nephew's recital was {when}, he played Chopin.", "We went to my nephew's recital {when}."],
          ["My nephew's recital is {when}.", "I promised to go to my nephew's recital {when}."],
          ["When was my nephew's piano recital?"], ["When is my nephew's recital?"], "the recital"),
    Event("family", ["I visited my grandmother {when}, she made soup.", "{when} I drove out to see my grandma."],
          ["I'm visiting my grandmother {when}.", "Grandma's expecting me {when}."],
          ["When did I last visit my grandma?", "When did I go see my grandmother?"],
          ["When am I seeing my grandmother?"], "your grandmother"),
    Event("transport", ["I passed my driving test {when}!", "{when} I finally passed the driving test."],
          ["My driving test is {when}.", "I take my driving test {when}, so nervous."],
          ["When did I pass my driving test?"], ["When is my driving test?"], "the driving test"),
    Event("health", ["I broke my wrist {when}, slipped on ice.", "{when} I fell off my bike and broke my wrist."],
          [], ["When did I break my wrist?", "When did I hurt my wrist?"], [], "your wrist"),
    Event("music", ["I saw {x} live {when}, incredible.", "{when} we went to the {x} concert."],
          ["I'm seeing {x} live {when}.", "The {x} concert is {when}!"],
          ["When did I go to the {x} concert?", "When did I see {x} play?"], ["When is the {x} show?"], "the show",
          ("Big Thief", "Phoebe Bridgers", "the Philharmonic", "Khruangbin", "a jazz trio")),
    Event("volunteering", ["I volunteered at the food bank {when}.", "{when} I did a shift at the food bank."],
          ["I'm volunteering at the food bank {when}.", "Food bank shift {when}."],
          ["When did I volunteer at the food bank?"], ["When is my food bank shift?"], "the food bank"),
    Event("books", ["My book club met {when}, nobody had finished the book.", "{when} was book club night."],
          ["Book club is {when}.", "We have book club {when}, I haven't read a page."],
          ["When was the last book club meeting?"], ["When's book club?"], "book club"),
    Event("relationships", ["We celebrated our anniversary {when} at that Thai place.",
                            "{when} was our anniversary, we went hiking."],
          ["Our anniversary is {when}.", "Our anniversary dinner is {when}, I booked a table."],
          ["When was our anniversary?", "When did we celebrate our anniversary?"], ["When is our anniversary?"],
          "your anniversary"),
    Event("work", ["I had a job interview at {x} {when}.", "{when} I interviewed with {x}, went okay."],
          ["I have an interview with {x} {when}.", "{x} interview {when}, help me prepare."],
          ["When was my interview with {x}?", "When did I interview at {x}?"], ["When is the {x} interview?"],
          "the interview", ("Stripe", "Shopify", "a design agency", "the hospital", "Brightline")),
    Event("home", ["We got the keys to the new flat {when}.", "{when} we picked up the keys to our new place."],
          ["We get the keys to the new flat {when}.", "Moving day is {when}."],
          ["When did we get the keys to the flat?", "When did we move into the new place?"],
          ["When is moving day?"], "the new flat"),
]

PEOPLE = [Relative("Hannah", "sister", "she", "nurse", "Seattle"), Relative("Luis", "brother", "he", "chef", "Miami"),
          Relative("Greta", "cousin", "she", "pilot", "Dublin"), Relative("Omar", "brother", "he", "teacher", "Boston"),
          Relative("Ines", "sister", "she", "architect", "Madrid"), Relative("Kofi", "cousin", "he", "paramedic",
                                                                             "Atlanta")]

TASKS = [
    Task("food", ["Can you give me a quick recipe for {dish}?", "What goes well with {dish} for a dinner party?",
                  "I have {ingredient} and rice, what can I make?", "How do I keep {dish} from getting soggy?"],
         {"dish": ["lasagna", "shakshuka", "pad thai", "risotto", "banana bread", "chili", "dumplings", "ramen"],
          "ingredient": ["chickpeas", "spinach", "leftover chicken", "tofu", "eggs", "sweet potatoes"]}),
    Task("writing", ["Help me write an email to my landlord about the {issue}.",
                     "Can you make this message to my manager sound less passive aggressive? It's about the {issue}.",
                     "Draft a polite note to my neighbour about the {issue}."],
         {"issue": ["broken heater", "noise at night", "leaking sink", "late deposit", "parking spot", "mould"]}),
    Task("travel", ["What should I pack for a long weekend in {city}?", "Plan me two days in {city} on a budget.",
                    "Is {city} nice in {month}?"],
         {"city": ["Lisbon", "Montreal", "Kyoto", "Austin", "Edinburgh", "Mexico City", "Vienna", "Seattle"],
          "month": ["March", "June", "October", "December"]}),
    Task("learning", ["Explain {concept} like I'm five.", "What's the difference between {concept} and {other}?",
                      "I keep forgetting how {concept} works, remind me?"],
         {"concept": ["compound interest", "inflation", "photosynthesis", "machine learning", "a mortgage",
                      "black holes", "vaccines"], "other": ["simple interest", "deflation", "statistics"]}),
    Task("tech", ["My laptop is really slow, what can I try?", "How do I back up my phone photos?",
                  "Why does my wifi drop every evening?", "Which password manager would you suggest?"], {}),
    Task("money", ["How do I make a monthly budget that I'll actually stick to?", "Should I pay off {debt} first?",
                   "What's a good way to save for a {goal}?"],
         {"debt": ["my credit card", "the car loan", "student loans"], "goal": ["holiday", "new laptop", "wedding"]}),
    Task("fitness", ["Give me a twenty minute workout I can do at home.", "How do I stop my knees hurting when I run?",
                     "What should I eat before a {activity} session?"],
         {"activity": ["lifting", "running", "yoga", "swimming", "climbing"]}),
    Task("books", ["Recommend a novel like {book}.", "What's a good audiobook for a long drive?"],
         {"book": ["Piranesi", "The Overstory", "Circe", "Station Eleven"]}),
    Task("sleep", ["I keep waking up at 4am, any ideas?", "How much sleep do I actually need?",
                   "Is it bad to nap after lunch?"], {}),
    Task("home", ["How do I get rid of fruit flies?", "What plants survive in a dark apartment?",
                  "How often should I clean the fridge?"], {}),
]

SMALL_TALK = [("Ugh, Mondays.", "small"), ("I'm so tired today.", "sleep"), ("It's snowing here, finally.", "small"),
              ("Tell me something interesting.", "learning"), ("I can't decide what to cook tonight.", "food"),
              ("Long week. Glad it's Friday.", "small"), ("My neighbour's dog barked all night.", "sleep"),
              ("I think I'm getting a cold.", "health"), ("Just got back from a walk, it's gorgeous out.", "small"),
              ("Do you ever get bored?", "small")]

OPENERS = ["Oh, that's great to hear!", "Okay, let's figure this out together.", "I love that you asked me this.",
           "That sounds like a lot, honestly.", "Good question!", "Mm, I hear you.", "Oh nice.",
           "Happy to help with that.", "That's a big one.", "Ha, I was hoping you'd bring that up.",
           "First of all, you're doing better than you think.", "Let me think about this for a second."]
CLOSERS = ["How are you feeling about it?", "Want me to go into more detail on any of that?",
           "Does that help at all?", "Tell me how it goes, okay?", "What do you think?",
           "Shall we make a plan for the week?", "Anything else on your mind today?", "I'm here if you need more."]
INVENTIONS = ["Is this near your office on Pine Street?", "Didn't you say your sister lives in Denver?",
              "That reminds me of the trip to Rome you told me about.", "You mentioned your dog Rufus loves that.",
              "Like we planned last Tuesday, right?", "I remember you saying you work at the bakery downtown."]

TIPS: dict[str, list[str]] = {
    "fitness": ["Consistency beats intensity, so a routine you enjoy is worth more than a perfect one.",
                "Make sure you give your muscles a rest day or two each week.",
                "Tracking your workouts in a notebook can be surprisingly motivating.",
                "A good warm-up of five to ten minutes makes a big difference for your joints.",
                "Protein within a couple of hours after training helps recovery.",
                "If the gym gets crowded, going at odd hours can make it much nicer."],
    "work": ["New jobs take a few months to feel normal, so be patient with yourself.",
             "It helps to write down what you got done each day, even the small things.",
             "Setting boundaries around email after hours is worth the awkwardness.",
             "Your manager probably wants to hear what support you need.",
             "Lunch away from the desk really does help the afternoon."],
    "home": ["Moving is one of the most stressful things people do, so go easy on yourself.",
             "Finding a local cafe or park quickly can make a new place feel like home.",
             "Unpacking the kitchen first makes everything else easier.",
             "Meeting one neighbour early on makes a big difference.",
             "A new city takes about a year to really settle into."],
    "relationships": ["Good relationships leave room for both people to grow.",
                      "Talking about small things every day keeps the big conversations easier.",
                      "It's okay to take time to figure out what you want.",
                      "Breakups hurt even when they're the right call.",
                      "Planning little surprises keeps things fun."],
    "transport": ["Regular maintenance saves a lot of money later.", "Checking tire pressure monthly is an easy win.",
                  "A commute you enjoy can be the calmest part of the day.",
                  "Podcasts make any commute feel shorter.", "Insurance is worth comparing every year."],
    "hobbies": ["Fifteen minutes of practice a day beats two hours once a week.",
                "Finding a teacher you like matters more than the instrument.",
                "Recording yourself is uncomfortable but shows your progress.",
                "Hobbies are allowed to be just for fun, no goals needed."],
    "learning": ["Spaced repetition really works for vocabulary.", "Try to use a new word in a sentence the same day.",
                 "Explaining a topic out loud is a great way to learn it.",
                 "Short daily sessions stick better than cramming.",
                 "Mistakes are how you learn, so don't be afraid of them."],
    "books": ["Reading before bed on paper helps a lot of people sleep.",
              "It's fine to give up on a book you're not enjoying.",
              "Book clubs are great for reading things you'd never pick.",
              "Audiobooks count as reading, whatever anyone says."],
    "food": ["Batch cooking on Sundays saves a lot of weeknight stress.",
             "A squeeze of lemon at the end brightens almost any dish.",
             "Salting pasta water properly makes a real difference.",
             "Roasting vegetables at high heat brings out their sweetness.",
             "Keeping a few sauces in the freezer is a lifesaver."],
    "pets": ["Pets pick up on our moods more than we think.", "A tired dog is a well-behaved dog.",
             "Puzzle feeders keep clever animals busy.", "Regular vet checkups catch small problems early."],
    "music": ["Live music hits differently than recordings.", "Making a playlist for each season is a fun ritual.",
              "Good headphones are worth saving for.", "Exploring a genre's history makes it richer."],
    "family": ["Family news always lands a bit differently, doesn't it?",
               "Calling even for five minutes keeps people close.", "It's lovely that you're close with them.",
               "Family events can be wonderful and exhausting at the same time."],
    "health": ["Rest is part of getting better, not a waste of time.", "Drink more water than you think you need.",
               "If it doesn't improve in a few days, it's worth seeing a doctor.",
               "Be kind to your body while it heals."],
    "travel": ["Packing cubes change everything.", "Walking tours are a great way to start in a new city.",
               "Eating where the locals eat is usually cheaper and better.",
               "Leave one afternoon unplanned on every trip.", "Check whether museums have a free day."],
    "writing": ["Lead with what you need, then give the context.", "Short sentences sound more confident.",
                "A friendly first line sets the tone for the whole message.",
                "Ending with a clear next step makes replies more likely."],
    "tech": ["Restarting really does fix a surprising amount.", "Backups you never test are not really backups.",
             "Keeping the system updated closes a lot of security holes.",
             "Too many browser extensions slow everything down."],
    "money": ["Paying off the highest interest debt first saves the most.", "Automating savings on payday works.",
              "A budget you review weekly is one you'll keep.", "An emergency fund gives you breathing room."],
    "sleep": ["Keeping the same wake-up time every day helps more than anything.",
              "Screens an hour before bed really do make sleep worse.", "A cool, dark room helps a lot.",
              "Caffeine after lunch can still be in your system at midnight."],
    "volunteering": ["Volunteering is good for the people helping, too.",
                     "Regular shifts build real friendships.", "Food banks always need help on weekdays."],
    "small": ["Honestly, some days are just like that.", "I always enjoy hearing about your day.",
              "Little things like that make a day better.", "Take a moment for yourself if you can."],
}
