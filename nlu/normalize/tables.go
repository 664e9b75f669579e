package normalize

// Chat abbreviations, contractions and dialect forms, mapped to the words
// the training examples most likely use. Keys are lower-case, without
// repeated letters; values may hold several words.

var abbrevES = map[string]string{
	"q": "que", "k": "que", "ke": "que", "qe": "que", "q'": "que",
	"xq": "porque", "pq": "porque", "porq": "porque", "xk": "porque", "pk": "porque", "xke": "porque", "pke": "porque", "porke": "porque",
	"porfa": "por favor", "porfis": "por favor", "porfas": "por favor", "xfa": "por favor", "xfavor": "por favor", "pf": "por favor", "plis": "por favor", "pls": "por favor", "plz": "por favor",
	"tb": "también", "tmb": "también", "tbn": "también", "tambn": "también", "tamb": "también",
	"dnd": "dónde", "dnde": "dónde", "cdo": "cuando", "qdo": "cuando", "cnd": "cuando",
	"d": "de", "x": "por", "xa": "para", "pa": "para", "pal": "para el",
	"msj": "mensaje", "msjs": "mensajes", "msg": "mensaje", "info": "información",
	"bn": "bien", "nd": "nada", "na": "nada", "sq": "es que", "ntp": "no te preocupes",
	"toy": "estoy", "tas": "estás", "ta": "está", "tan": "están",
	"aki": "aquí", "aka": "acá", "ola": "hola", "hla": "hola", "holis": "hola",
	"grax": "gracias", "grx": "gracias", "grs": "gracias", "grasias": "gracias", "grcs": "gracias",
	"xo": "pero", "salu2": "saludos", "cel": "celular", "ud": "usted", "uds": "ustedes",
	"vdd": "verdad", "bno": "bueno", "weno": "bueno", "wena": "buena", "wenas": "buenas",
	"mñn": "mañana", "hr": "hora", "hrs": "horas", "min": "minutos",
	"tlf": "teléfono", "tel": "teléfono", "telf": "teléfono", "n°": "número", "nro": "número", "num": "número", "núm": "número",
	"dir": "dirección", "direc": "dirección", "xfi": "por favor",
	"tmbn": "también", "ps": "pues", "pos": "pues", "pue": "pues",
	"sip": "sí", "sep": "sí", "nop": "no", "nel": "no", "ño": "no",
	"oka": "ok", "okey": "ok", "okis": "ok", "oki": "ok", "okay": "ok",
	"ahorita": "ahora", "rapido": "rápido", "xq'": "porque",
}

// voseoES maps Rioplatense and Central American voseo forms (as written
// with and without the accent) to the tú forms that snowball stems alike.
var voseoES = map[string]string{
	"sos": "eres", "podés": "puedes", "podes": "puedes", "querés": "quieres", "queres": "quieres",
	"tenés": "tienes", "tenes": "tienes", "venís": "vienes", "venis": "vienes", "decís": "dices", "decis": "dices",
	"volvés": "vuelves", "volves": "vuelves", "contás": "cuentas", "contas": "cuentas",
	"mostrás": "muestras", "mostras": "muestras", "encontrás": "encuentras", "encontras": "encuentras",
	"pensás": "piensas", "pensas": "piensas", "entendés": "entiendes", "entendes": "entiendes",
	"preferís": "prefieres", "preferis": "prefieres", "servís": "sirves", "servis": "sirves",
	"pedís": "pides", "pedis": "pides", "seguís": "sigues", "seguis": "sigues",
	"conseguís": "consigues", "conseguis": "consigues", "abrís": "abres", "abris": "abres",
	"escribís": "escribes", "escribis": "escribes", "recibís": "recibes", "recibis": "recibes",
	"vivís": "vives", "vivis": "vives", "salís": "sales", "salis": "sales", "oís": "oyes",
	"devolvés": "devuelves", "devolves": "devuelves", "movés": "mueves", "probás": "pruebas", "probas": "pruebas",
	"acordás": "acuerdas", "acordas": "acuerdas", "costás": "cuestas", "recordás": "recuerdas",
	"decime": "dime", "decíme": "dime", "contame": "cuéntame", "contáme": "cuéntame",
	"mostrame": "muéstrame", "mostráme": "muéstrame", "devolveme": "devuélveme",
	"volvé": "vuelve", "poné": "pon", "vení": "ven", "tené": "ten", "hacé": "haz", "salí": "sal", "decí": "di",
	"fijate": "fíjate", "pasame": "pásame", "mandame": "mándame", "avisame": "avísame",
	"ayudame": "ayúdame", "explicame": "explícame", "llamame": "llámame", "comunicame": "comunícame",
	"vos": "tú",
}

var abbrevEN = map[string]string{
	"u": "you", "ur": "your", "r": "are", "pls": "please", "plz": "please", "plez": "please", "pleas": "please", "plis": "please",
	"thx": "thanks", "thnx": "thanks", "thanx": "thanks", "thnks": "thanks", "ty": "thank you", "tysm": "thank you so much", "tks": "thanks",
	"im": "i am", "ive": "i have", "dont": "do not", "cant": "can not", "cannot": "can not", "wont": "will not",
	"didnt": "did not", "doesnt": "does not", "isnt": "is not", "arent": "are not", "wasnt": "was not", "havent": "have not", "hasnt": "has not",
	"couldnt": "could not", "shouldnt": "should not", "wouldnt": "would not", "whats": "what is", "wheres": "where is", "hows": "how is",
	"thats": "that is", "theres": "there is", "lets": "let us", "youre": "you are", "theyre": "they are",
	"wanna": "want to", "gonna": "going to", "gotta": "got to", "gimme": "give me", "lemme": "let me", "dunno": "do not know",
	"b4": "before", "2day": "today", "tmrw": "tomorrow", "tmr": "tomorrow", "tomoro": "tomorrow", "tmrrw": "tomorrow", "2morrow": "tomorrow",
	"msg": "message", "idk": "i do not know", "wat": "what", "wht": "what", "wen": "when", "hw": "how", "abt": "about",
	"bcoz": "because", "bcz": "because", "cuz": "because", "coz": "because", "bc": "because", "n": "and", "y": "why",
	"k": "ok", "kk": "ok", "okay": "ok", "okey": "ok", "ppl": "people", "acct": "account", "pwd": "password", "addr": "address",
	"yr": "your", "hv": "have", "sb": "somebody", "sth": "something", "smth": "something", "asap": "as soon as possible",
	"hi": "hi", "hii": "hi", "helo": "hello", "hlo": "hello", "yep": "yes", "yup": "yes", "ya": "yes", "yea": "yes", "yeah": "yes",
	"nope": "no", "nah": "no", "pl": "please", "plzz": "please", "ordr": "order", "wrng": "wrong", "recd": "received", "rcvd": "received",
}

// contractionsEN are endings after an apostrophe.
var contractionsEN = map[string]string{
	"n't": "not", "'s": "is", "'m": "am", "'re": "are", "'ll": "will", "'ve": "have", "'d": "would",
}

var irregularNotEN = map[string]string{"won't": "will not", "can't": "can not", "shan't": "shall not", "ain't": "is not"}
