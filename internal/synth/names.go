package synth

// This file holds the people data of the five countries: given and family
// names, cities with their postal code patterns, streets and telephone
// number patterns.
//
// Patterns: '#' is a random digit, '%' a random digit from 1 to 9, '@' a
// random letter of those British postcodes use in the inward code. Every
// other character is copied.

// city is a city and the postal code patterns of its districts.
type city struct {
	name  string
	codes []string
}

// country is what NewPerson draws from for one country.
type country struct {
	code     string
	language string
	male     []string
	female   []string
	// family holds the male and the female form of each family name; the
	// female form is empty where it is the same.
	family [][2]string
	cities []city
	// streets are street names; streetNo formats the house number.
	streets []string
	phones  []string
}

// plain turns a list of family names with one form into pairs.
func plain(names ...string) [][2]string {
	out := make([][2]string, len(names))
	for i, n := range names {
		out[i] = [2]string{n, ""}
	}
	return out
}

var sweden = country{
	code:     "SE",
	language: "sv",
	male: []string{
		"Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Nils", "Mikael",
		"Jan", "Björn", "Göran", "Håkan", "Stefan", "Mattias", "Oskar", "Måns",
		"Linus", "Sören", "Jörgen", "Örjan", "Åke", "Gösta", "Torbjörn", "Ragnar",
		"Viktor", "Emil", "Hugo", "Axel", "Elias", "Olle", "Sixten", "Henrik",
		"Fredrik", "Andreas", "Kjell", "Bengt", "Pär", "Tore",
	},
	female: []string{
		"Anna", "Maria", "Karin", "Eva", "Kristina", "Lena", "Sara", "Emma",
		"Ingrid", "Åsa", "Märta", "Ebba", "Maja", "Linnéa", "Sofia", "Elin",
		"Ida", "Malin", "Jenny", "Agnes", "Astrid", "Wilma", "Klara", "Frida",
		"Hanna", "Ulrika", "Birgitta", "Margareta", "Görel", "Helén", "Annika",
		"Lovisa", "Signe", "Ylva", "Tove", "Saga", "Ellinor", "Britt-Marie",
	},
	family: plain(
		"Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson",
		"Olsson", "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson",
		"Jansson", "Hansson", "Bengtsson", "Jönsson", "Lindberg", "Jakobsson",
		"Magnusson", "Lindström", "Lindqvist", "Lindgren", "Berglund", "Axelsson",
		"Bergström", "Lundberg", "Lundgren", "Lundqvist", "Mattsson", "Berggren",
		"Fredriksson", "Sandberg", "Henriksson", "Sjöberg", "Forsberg", "Wallin",
		"Engström", "Danielsson", "Håkansson", "Eklund", "Brännström", "Öberg",
		"Åkesson", "Sjögren", "Ekström", "Hägglund", "Strömberg", "Löfgren",
		"Nyström", "Wåhlin", "Björklund", "Holmström", "Sundström", "Söderberg",
		"Åberg", "Nordström", "Hedström", "Fransson", "Björk", "Östlund",
		"Lövgren", "Sjödin", "Bäckström", "Ström", "Dahlström", "Åström", "Ågren",
	),
	cities: []city{
		{"Stockholm", []string{"11# ##", "12# ##"}},
		{"Göteborg", []string{"41# ##"}},
		{"Malmö", []string{"21# ##"}},
		{"Uppsala", []string{"75# ##"}},
		{"Västerås", []string{"72# ##"}},
		{"Örebro", []string{"70# ##"}},
		{"Linköping", []string{"58# ##"}},
		{"Helsingborg", []string{"25# ##"}},
		{"Jönköping", []string{"55# ##"}},
		{"Norrköping", []string{"60# ##"}},
		{"Lund", []string{"22# ##"}},
		{"Umeå", []string{"90# ##"}},
		{"Gävle", []string{"80# ##"}},
		{"Borås", []string{"50# ##"}},
		{"Södertälje", []string{"15# ##"}},
		{"Eskilstuna", []string{"63# ##"}},
		{"Karlstad", []string{"65# ##"}},
		{"Växjö", []string{"35# ##"}},
		{"Halmstad", []string{"30# ##"}},
		{"Sundsvall", []string{"85# ##"}},
		{"Luleå", []string{"97# ##"}},
		{"Östersund", []string{"83# ##"}},
		{"Skellefteå", []string{"93# ##"}},
		{"Trollhättan", []string{"46# ##"}},
	},
	streets: []string{
		"Storgatan", "Drottninggatan", "Kungsgatan", "Kungsvägen", "Björkvägen",
		"Åsgatan", "Västra Hamngatan", "Sjöbergsvägen", "Ängsvägen", "Lärkstigen",
		"Tallvägen", "Skolgatan", "Järnvägsgatan", "Östra Långgatan", "Prästgårdsvägen",
		"Solrosvägen", "Kvarngatan", "Tegnérgatan", "Hagagatan", "Ekbacksvägen",
	},
	// The fictional numbers of the Swedish regulator (PTS): they never
	// reach anyone.
	phones: []string{
		"+46 70 174 06 %#", "+46 8 465 004 ##", "+46 31 390 06 ##",
		"+46 40 628 04 ##", "+46 980 319 2##",
	},
}

var norway = country{
	code:     "NO",
	language: "nb",
	male: []string{
		"Øyvind", "Ståle", "Bjørn", "Kåre", "Tor", "Ole", "Lars", "Jan",
		"Per", "Knut", "Geir", "Terje", "Håkon", "Sindre", "Eirik", "Magnus",
		"Jørgen", "Øystein", "Ørjan", "Are", "Trond", "Sverre", "Arne", "Odd",
		"Espen", "Runar", "Steinar", "Vegard", "Åsmund", "Halvor", "Henrik",
		"Anders", "Mathias", "Sondre", "Torbjørn", "Jostein", "Gaute",
	},
	female: []string{
		"Åse", "Solveig", "Mette", "Ingrid", "Kari", "Anne", "Liv", "Randi",
		"Marit", "Hilde", "Siri", "Tone", "Bjørg", "Gro", "Sigrid", "Ragnhild",
		"Nora", "Ingeborg", "Marte", "Kjersti", "Sølvi", "Tuva", "Åshild",
		"Synnøve", "Guro", "Silje", "Ida", "Thea", "Maren", "Hege", "Turid",
		"Vibeke", "Astrid", "Live", "Bodil", "Gunnhild",
	},
	family: plain(
		"Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
		"Kristiansen", "Jensen", "Karlsen", "Johnsen", "Pettersen", "Eriksen",
		"Berg", "Haugen", "Hagen", "Johannessen", "Andreassen", "Jacobsen", "Dahl",
		"Jørgensen", "Halvorsen", "Henriksen", "Lund", "Sørensen", "Jakobsen",
		"Moen", "Gundersen", "Iversen", "Strand", "Solberg", "Svendsen", "Eide",
		"Knutsen", "Martinsen", "Paulsen", "Bakken", "Kristoffersen", "Mathisen",
		"Lie", "Amundsen", "Rasmussen", "Lunde", "Bråten", "Sæther", "Løken",
		"Dæhli", "Ødegård", "Østby", "Bø", "Grønli", "Fjærli", "Kjær", "Håland",
		"Aasen", "Sæbø", "Bjørnstad", "Løvås", "Myhre", "Nygård", "Tveit",
		"Våge", "Skår", "Røed", "Sætre", "Brænden", "Mørk",
	),
	cities: []city{
		{"Oslo", []string{"01##", "02##", "03##", "04##", "05##", "06##"}},
		{"Bergen", []string{"50##", "51##"}},
		{"Trondheim", []string{"70##"}},
		{"Stavanger", []string{"40##"}},
		{"Drammen", []string{"30##"}},
		{"Fredrikstad", []string{"16##"}},
		{"Kristiansand", []string{"46##"}},
		{"Tromsø", []string{"90##"}},
		{"Sandnes", []string{"43##"}},
		{"Ålesund", []string{"60##"}},
		{"Bodø", []string{"80##"}},
		{"Tønsberg", []string{"31##"}},
		{"Hamar", []string{"23##"}},
		{"Lillehammer", []string{"26##"}},
		{"Moss", []string{"15##"}},
		{"Haugesund", []string{"55##"}},
		{"Gjøvik", []string{"28##"}},
		{"Molde", []string{"64##"}},
		{"Skien", []string{"37##"}},
		{"Arendal", []string{"48##"}},
		{"Larvik", []string{"32##"}},
		{"Førde", []string{"68##"}},
		{"Hønefoss", []string{"35##"}},
	},
	streets: []string{
		"Storgata", "Kirkegata", "Bjørnstjerne Bjørnsons gate", "Søndre gate",
		"Øvre Slottsgate", "Fjellveien", "Skogveien", "Løvåsveien", "Sjøgata",
		"Nedre Storgate", "Møllergata", "Tollbugata", "Kongens gate",
		"Dronningens gate", "Åsveien", "Bakkeveien", "Granveien", "Bjørkeveien",
		"Solbakken", "Hagaløkkveien",
	},
	phones: []string{
		"+47 4%# ## ###", "+47 9%# ## ###", "+47 9%# ## ###", "+47 2% ## ## ##",
	},
}

var slovakia = country{
	code:     "SK",
	language: "sk",
	male: []string{
		"Ján", "Peter", "Martin", "Tomáš", "Jozef", "Miroslav", "Ľubomír", "Ľuboš",
		"Dušan", "Štefan", "Matúš", "Juraj", "Marián", "Ondrej", "Pavol",
		"Rastislav", "Vladimír", "Michal", "Lukáš", "Branislav", "Radoslav",
		"Igor", "Róbert", "Marek", "Patrik", "Dominik", "Filip", "Samuel", "Adam",
		"Ľudovít", "Jakub", "Milan", "Ivan", "Tibor", "Stanislav",
	},
	female: []string{
		"Mária", "Zuzana", "Katarína", "Ľubica", "Jana", "Lucia", "Veronika",
		"Martina", "Monika", "Eva", "Ivana", "Simona", "Barbora", "Andrea",
		"Petra", "Kristína", "Dominika", "Soňa", "Alžbeta", "Gabriela", "Lenka",
		"Miroslava", "Natália", "Nikola", "Ema", "Viera", "Anna", "Terézia",
		"Daniela", "Adriana", "Ľudmila", "Jarmila", "Božena", "Silvia",
	},
	family: [][2]string{
		{"Horváth", "Horváthová"}, {"Kováč", "Kováčová"}, {"Varga", "Vargová"},
		{"Tóth", "Tóthová"}, {"Nagy", "Nagyová"}, {"Baláž", "Balážová"},
		{"Szabó", "Szabóová"}, {"Molnár", "Molnárová"}, {"Balog", "Balogová"},
		{"Lukáč", "Lukáčová"}, {"Novák", "Nováková"}, {"Kollár", "Kollárová"},
		{"Németh", "Némethová"}, {"Oravec", "Oravcová"}, {"Šimko", "Šimková"},
		{"Polák", "Poláková"}, {"Hudák", "Hudáková"}, {"Kráľ", "Kráľová"},
		{"Čierny", "Čierna"}, {"Mráz", "Mrázová"}, {"Bartoš", "Bartošová"},
		{"Gajdoš", "Gajdošová"}, {"Ďurica", "Ďuricová"}, {"Hrnčiar", "Hrnčiarová"},
		{"Ľupták", "Ľuptáková"}, {"Šťastný", "Šťastná"}, {"Bednár", "Bednárová"},
		{"Michalík", "Michalíková"}, {"Jurčo", "Jurčová"}, {"Kolesár", "Kolesárová"},
		{"Krajčír", "Krajčírová"}, {"Marko", "Marková"}, {"Urban", "Urbanová"},
		{"Blaho", "Blahová"}, {"Chovanec", "Chovancová"}, {"Sloboda", "Slobodová"},
		{"Kučera", "Kučerová"}, {"Štefánik", "Štefániková"}, {"Hlinka", "Hlinková"},
		{"Matuška", "Matušková"}, {"Sedlák", "Sedláková"}, {"Pavlík", "Pavlíková"},
		{"Slovák", "Slováková"}, {"Vlček", "Vlčková"}, {"Dudáš", "Dudášová"},
		{"Greguš", "Gregušová"}, {"Lacko", "Lacková"}, {"Ševčík", "Ševčíková"},
		{"Kmeť", "Kmeťová"}, {"Hruška", "Hrušková"}, {"Ďuriš", "Ďurišová"},
		{"Kováčik", "Kováčiková"}, {"Štrba", "Štrbová"}, {"Holub", "Holubová"},
		{"Žiak", "Žiaková"}, {"Benko", "Benková"}, {"Rusnák", "Rusnáková"},
		{"Mišík", "Mišíková"}, {"Hornák", "Hornáková"}, {"Majerník", "Majerníková"},
		{"Vaško", "Vašková"}, {"Ďurovič", "Ďurovičová"}, {"Kočiš", "Kočišová"},
		{"Beňo", "Beňová"}, {"Dubovský", "Dubovská"}, {"Bielik", "Bieliková"},
		{"Maďar", "Maďarová"},
	},
	cities: []city{
		{"Bratislava", []string{"811 0#", "821 0#", "831 0#", "841 0#", "851 0#"}},
		{"Košice", []string{"040 0#"}},
		{"Prešov", []string{"080 0#"}},
		{"Žilina", []string{"010 0#"}},
		{"Banská Bystrica", []string{"974 0#"}},
		{"Nitra", []string{"949 0#"}},
		{"Trnava", []string{"917 0#"}},
		{"Trenčín", []string{"911 0#"}},
		{"Martin", []string{"036 0#"}},
		{"Poprad", []string{"058 0#"}},
		{"Prievidza", []string{"971 0#"}},
		{"Zvolen", []string{"960 0#"}},
		{"Považská Bystrica", []string{"017 0#"}},
		{"Michalovce", []string{"071 0#"}},
		{"Nové Zámky", []string{"940 0#"}},
		{"Spišská Nová Ves", []string{"052 0#"}},
		{"Komárno", []string{"945 0#"}},
		{"Levice", []string{"934 0#"}},
		{"Humenné", []string{"066 0#"}},
		{"Liptovský Mikuláš", []string{"031 0#"}},
		{"Ružomberok", []string{"034 0#"}},
		{"Piešťany", []string{"921 0#"}},
		{"Dolný Kubín", []string{"026 0#"}},
		{"Bardejov", []string{"085 0#"}},
	},
	streets: []string{
		"Hlavná", "Štúrova", "Hviezdoslavova", "Mierová", "Záhradná", "Školská",
		"Dlhá", "Krátka", "Poľná", "Jarná", "Nová", "Lipová", "Družstevná",
		"Kukučínova", "Bernolákova", "Jesenského", "Moyzesova", "Slnečná",
		"Štefánikova", "Čajakova",
	},
	phones: []string{
		"+421 90# ### ###", "+421 91# ### ###", "+421 94# ### ###",
		"+421 95# ### ###", "+421 2 %### ####",
	},
}

var czechia = country{
	code:     "CZ",
	language: "cs",
	male: []string{
		"Jiří", "Jan", "Petr", "Josef", "Pavel", "Tomáš", "Jaroslav", "Martin",
		"Miroslav", "František", "Zdeněk", "Václav", "Michal", "Karel", "Milan",
		"Vojtěch", "Ondřej", "Lukáš", "Radek", "Luboš", "Jakub", "Matěj",
		"Štěpán", "Vít", "Aleš", "Bořivoj", "Přemysl", "Dalibor", "Jaromír",
		"Oldřich", "Bohumil", "Vlastimil", "Radim", "Dominik", "Šimon",
	},
	female: []string{
		"Jana", "Marie", "Eva", "Hana", "Anna", "Lenka", "Kateřina", "Věra",
		"Lucie", "Alena", "Petra", "Jaroslava", "Veronika", "Martina", "Tereza",
		"Markéta", "Zdeňka", "Šárka", "Barbora", "Dagmar", "Ludmila", "Jiřina",
		"Michaela", "Božena", "Radka", "Klára", "Eliška", "Simona", "Růžena",
		"Blanka", "Vlasta", "Miroslava", "Irena", "Libuše",
	},
	family: [][2]string{
		{"Novák", "Nováková"}, {"Svoboda", "Svobodová"}, {"Novotný", "Novotná"},
		{"Dvořák", "Dvořáková"}, {"Černý", "Černá"}, {"Procházka", "Procházková"},
		{"Kučera", "Kučerová"}, {"Veselý", "Veselá"}, {"Horák", "Horáková"},
		{"Němec", "Němcová"}, {"Marek", "Marková"}, {"Pospíšil", "Pospíšilová"},
		{"Pokorný", "Pokorná"}, {"Hájek", "Hájková"}, {"Král", "Králová"},
		{"Jelínek", "Jelínková"}, {"Růžička", "Růžičková"}, {"Beneš", "Benešová"},
		{"Fiala", "Fialová"}, {"Sedláček", "Sedláčková"}, {"Doležal", "Doležalová"},
		{"Zeman", "Zemanová"}, {"Kolář", "Kolářová"}, {"Navrátil", "Navrátilová"},
		{"Čermák", "Čermáková"}, {"Urban", "Urbanová"}, {"Vaněk", "Vaňková"},
		{"Blažek", "Blažková"}, {"Kříž", "Křížová"}, {"Kovář", "Kovářová"},
		{"Bartoš", "Bartošová"}, {"Vlček", "Vlčková"}, {"Polák", "Poláková"},
		{"Musil", "Musilová"}, {"Kopecký", "Kopecká"}, {"Šimek", "Šimková"},
		{"Konečný", "Konečná"}, {"Malý", "Malá"}, {"Holub", "Holubová"},
		{"Čech", "Čechová"}, {"Štěpánek", "Štěpánková"}, {"Staněk", "Staňková"},
		{"Kadlec", "Kadlecová"}, {"Dostál", "Dostálová"}, {"Soukup", "Soukupová"},
		{"Šťastný", "Šťastná"}, {"Mareš", "Marešová"}, {"Moravec", "Moravcová"},
		{"Sýkora", "Sýkorová"}, {"Tichý", "Tichá"}, {"Valenta", "Valentová"},
		{"Vávra", "Vávrová"}, {"Matoušek", "Matoušková"}, {"Bláha", "Bláhová"},
		{"Říha", "Říhová"}, {"Ševčík", "Ševčíková"}, {"Bureš", "Burešová"},
		{"Hrubý", "Hrubá"}, {"Mašek", "Mašková"}, {"Jaroš", "Jarošová"},
		{"Hůlka", "Hůlková"}, {"Brož", "Brožová"}, {"Kratochvíl", "Kratochvílová"},
		{"Šebesta", "Šebestová"}, {"Skála", "Skálová"}, {"Žák", "Žáková"},
		{"Šindelář", "Šindelářová"}, {"Zelenka", "Zelenková"}, {"Hruška", "Hrušková"},
		{"Úlehla", "Úlehlová"},
	},
	cities: []city{
		{"Praha", []string{"1%0 00"}},
		{"Brno", []string{"602 00", "612 00", "615 00", "616 00", "617 00", "618 00", "621 00", "625 00"}},
		{"Ostrava", []string{"70# 00"}},
		{"Plzeň", []string{"30# 00"}},
		{"Liberec", []string{"460 0#"}},
		{"Olomouc", []string{"779 00"}},
		{"České Budějovice", []string{"370 0#"}},
		{"Hradec Králové", []string{"500 0#"}},
		{"Ústí nad Labem", []string{"400 0#"}},
		{"Pardubice", []string{"530 0#"}},
		{"Zlín", []string{"760 0#"}},
		{"Havířov", []string{"736 0#"}},
		{"Kladno", []string{"272 0#"}},
		{"Most", []string{"434 0#"}},
		{"Opava", []string{"746 0#"}},
		{"Frýdek-Místek", []string{"738 0#"}},
		{"Karviná", []string{"733 0#"}},
		{"Jihlava", []string{"586 0#"}},
		{"Teplice", []string{"415 0#"}},
		{"Děčín", []string{"405 0#"}},
		{"Karlovy Vary", []string{"360 0#"}},
		{"Chomutov", []string{"430 0#"}},
		{"Přerov", []string{"750 0#"}},
		{"Mladá Boleslav", []string{"293 0#"}},
		{"Prostějov", []string{"796 0#"}},
		{"Třebíč", []string{"674 0#"}},
		{"Kroměříž", []string{"767 0#"}},
		{"Tábor", []string{"390 0#"}},
	},
	streets: []string{
		"Masarykova", "Husova", "Palackého", "Nádražní", "Školní", "Komenského",
		"Jiráskova", "Havlíčkova", "Smetanova", "Tyršova", "Žižkova", "Riegrova",
		"Sokolovská", "Zahradní", "Lidická", "Dvořákova", "Revoluční", "Polní",
		"Luční", "Křižíkova", "Vinohradská", "Na Příkopě", "U Nádraží", "Třešňová",
	},
	phones: []string{
		"+420 60# ### ###", "+420 7%# ### ###", "+420 7%# ### ###", "+420 2%# ### ###",
	},
}

var britain = country{
	code:     "GB",
	language: "en",
	male: []string{
		"James", "Oliver", "George", "Harry", "Jack", "Thomas", "William", "Daniel",
		"Samuel", "Joseph", "Matthew", "Owen", "Rhys", "Dafydd", "Callum", "Ewan",
		"Hamish", "Seán", "Ciarán", "Éamonn", "Declan", "Mohammed", "Arjun", "Ravi",
		"Kwame", "Tobias", "Rory", "Alistair", "Gareth", "Niall", "Liam", "Connor",
		"Jamal", "Benedict",
	},
	female: []string{
		"Olivia", "Amelia", "Isla", "Emily", "Sophie", "Charlotte", "Grace", "Lucy",
		"Hannah", "Chloë", "Zoë", "Renée", "Siân", "Siobhán", "Róisín", "Niamh",
		"Aoife", "Catriona", "Eilidh", "Bethan", "Ffion", "Megan", "Priya", "Aisha",
		"Fatima", "Amara", "Rebecca", "Eleanor", "Harriet", "Rosie", "Imogen", "Freya",
	},
	family: plain(
		"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson",
		"Davies", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White",
		"Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Patel", "Khan",
		"Lewis", "Phillips", "Mason", "Mitchell", "Hughes", "Edwards", "Turner",
		"Hill", "Cooper", "Ward", "Morris", "Moore", "Harris", "King", "Baker",
		"Harrison", "Morgan", "Allen", "Scott", "Young", "Campbell", "Anderson",
		"Stewart", "MacDonald", "O'Connor", "O'Brien", "Murphy", "Kelly", "Fraser",
		"Reid", "Ahmed", "Hussain", "Singh", "Okafor", "Mensah", "Nowak", "Chen",
		"Llewellyn", "Pryce", "Gallagher", "Doyle", "Byrne",
	),
	cities: []city{
		{"London", []string{"E1 #@@", "N7 #@@", "SE15 #@@", "SW9 #@@", "NW3 #@@", "W5 #@@", "E17 #@@"}},
		{"Manchester", []string{"M% #@@", "M1% #@@"}},
		{"Birmingham", []string{"B% #@@", "B1% #@@", "B2% #@@"}},
		{"Leeds", []string{"LS% #@@", "LS1% #@@"}},
		{"Glasgow", []string{"G% #@@", "G1% #@@"}},
		{"Edinburgh", []string{"EH% #@@", "EH1% #@@"}},
		{"Liverpool", []string{"L% #@@", "L1% #@@"}},
		{"Bristol", []string{"BS% #@@", "BS1% #@@"}},
		{"Sheffield", []string{"S% #@@", "S1% #@@"}},
		{"Cardiff", []string{"CF1% #@@", "CF2% #@@"}},
		{"Newcastle upon Tyne", []string{"NE% #@@"}},
		{"Nottingham", []string{"NG% #@@"}},
		{"Leicester", []string{"LE% #@@"}},
		{"Belfast", []string{"BT% #@@"}},
		{"Southampton", []string{"SO1% #@@"}},
		{"Oxford", []string{"OX% #@@"}},
		{"Cambridge", []string{"CB% #@@"}},
		{"York", []string{"YO% #@@"}},
		{"Brighton", []string{"BN1 #@@", "BN2 #@@"}},
		{"Aberdeen", []string{"AB1% #@@"}},
		{"Coventry", []string{"CV% #@@"}},
		{"Reading", []string{"RG% #@@"}},
		{"Norwich", []string{"NR% #@@"}},
		{"Plymouth", []string{"PL% #@@"}},
		{"Exeter", []string{"EX% #@@"}},
		{"Swansea", []string{"SA% #@@"}},
	},
	streets: []string{
		"High Street", "Station Road", "Church Lane", "Victoria Road", "Park Avenue",
		"Mill Lane", "Queen's Road", "Kingsway", "Albert Street", "Manor Close",
		"Elm Grove", "Oakfield Drive", "Windsor Crescent", "Orchard Way",
		"Meadow View", "Chapel Street", "North Street", "Springfield Road",
		"Green Lane", "The Crescent",
	},
	// The drama numbers of Ofcom, reserved for fiction.
	phones: []string{
		"+44 7700 900###", "+44 7700 900###", "+44 20 7946 0###", "+44 161 496 0###",
		"+44 121 496 0###", "+44 113 496 0###", "+44 141 496 0###",
		"+44 131 496 0###", "+44 117 496 0###", "+44 191 498 0###",
		"+44 28 9649 6###",
	},
}

// countries is in the order of Countries.
var countries = []*country{&sweden, &norway, &slovakia, &czechia, &britain}

// countryOf returns the data of a country code, Britain's for an unknown one.
func countryOf(code string) *country {
	for _, c := range countries {
		if c.code == code {
			return c
		}
	}
	return &britain
}

// countryOfLanguage returns the country speaking lang, Britain for an
// unknown language.
func countryOfLanguage(lang string) *country {
	for _, c := range countries {
		if c.language == lang {
			return c
		}
	}
	return &britain
}
