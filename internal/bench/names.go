package bench

// Name lists for generated people. A contact centre's staff is international,
// so the lists mix origins; their product (about 30,000 full names) repeats
// often enough in 200k users that sorting meets many ties, as real data does.

var firstNames = []string{
	"Aaron", "Abigail", "Adam", "Adrian", "Ahmed", "Aisha", "Alba", "Alejandro", "Alexander", "Alexandra",
	"Ali", "Alice", "Amelia", "Amir", "Ana", "Andrea", "Andreas", "Anna", "Anne", "Antonio",
	"Ben", "Benjamin", "Bianca", "Carla", "Carlos", "Caroline", "Charlotte", "Chen", "Chloe", "Christian",
	"Clara", "Daniel", "David", "Diana", "Dmitri", "Elena", "Elias", "Elif", "Elisa", "Emil",
	"Emily", "Emma", "Eric", "Eva", "Fatima", "Felix", "Finn", "Francesca", "Gabriel", "Grace",
	"Hannah", "Hans", "Hassan", "Helena", "Henrik", "Ida", "Ines", "Isabel", "Ivan", "Jack",
	"Jakob", "James", "Jan", "Jana", "Jason", "Javier", "Jessica", "Johanna", "John", "Jonas",
	"Jose", "Julia", "Julian", "Karim", "Katarina", "Kevin", "Klara", "Lara", "Laura", "Lea",
	"Lena", "Leon", "Liam", "Lina", "Linus", "Lucas", "Lucia", "Luis", "Luisa", "Lukas",
	"Maja", "Marco", "Maria", "Marie", "Mario", "Mark", "Martin", "Mateo", "Max", "Mehmet",
	"Mia", "Michael", "Mila", "Mohammed", "Nadia", "Natalia", "Nico", "Nina", "Noah", "Nora",
	"Olga", "Oliver", "Omar", "Oscar", "Paul", "Paula", "Pedro", "Peter", "Petra", "Rafael",
	"Rebecca", "Robert", "Sara", "Sarah", "Sebastian", "Simon", "Sofia", "Sophie", "Stefan", "Susanne",
	"Thomas", "Tim", "Tobias", "Tom", "Valentina", "Victor", "Viktoria", "William", "Yara", "Yusuf",
	"Zoe", "Zeynep", "Wei", "Priya", "Raj", "Sanjay", "Ayumi", "Kenji", "Mei", "Olivia",
}

var lastNames = []string{
	"Abbas", "Adler", "Albers", "Alvarez", "Anderson", "Arnold", "Bauer", "Baumann", "Beck", "Becker",
	"Berg", "Bergmann", "Brandt", "Braun", "Brown", "Busch", "Carter", "Castro", "Chen", "Clark",
	"Costa", "Davies", "Demir", "Dietrich", "Dubois", "Eriksson", "Evans", "Fernandez", "Fischer", "Fleming",
	"Frank", "Franke", "Friedrich", "Fuchs", "Garcia", "Gomez", "Graf", "Gupta", "Hahn", "Hansen",
	"Hartmann", "Heller", "Hernandez", "Herrmann", "Hoffmann", "Hofmann", "Horn", "Huber", "Hughes", "Jackson",
	"Jansen", "Johansson", "Johnson", "Jones", "Jung", "Kaiser", "Kaya", "Keller", "Khan", "Kim",
	"Klein", "Koch", "Kowalski", "Kraft", "Krause", "Kramer", "Kuhn", "Lang", "Larsen", "Lehmann",
	"Lewis", "Li", "Lindberg", "Lopez", "Lorenz", "Ludwig", "Maier", "Martin", "Martinez", "Mayer",
	"Meier", "Meyer", "Miller", "Moreau", "Morris", "Muller", "Nagel", "Neumann", "Nguyen", "Nielsen",
	"Novak", "Nowak", "Olsen", "Otto", "Patel", "Perez", "Peters", "Petersen", "Pohl", "Popescu",
	"Richter", "Roberts", "Rodriguez", "Rossi", "Roth", "Russo", "Sanchez", "Sauer", "Schaefer", "Scherer",
	"Schmid", "Schmidt", "Schmitt", "Schmitz", "Schneider", "Scholz", "Schreiber", "Schubert", "Schulz", "Schulze",
	"Schwarz", "Seidel", "Silva", "Simon", "Singh", "Smith", "Sommer", "Stein", "Suzuki", "Svensson",
	"Taylor", "Thomas", "Thompson", "Vogel", "Vogt", "Wagner", "Walter", "Wang", "Weber", "Weiss",
	"Werner", "White", "Wilson", "Winkler", "Wolf", "Wright", "Yilmaz", "Young", "Zhang", "Zimmermann",
	"Bianchi", "Conti", "Esposito", "Ferrari", "Lombardi", "Moretti", "Ricci", "Romano", "Bruno", "Gallo",
	"Dupont", "Lefebvre", "Leroy", "Girard", "Bonnet", "Dumont", "Fontaine", "Rousseau", "Vincent", "Mercier",
	"Jensen", "Pedersen", "Christensen", "Andersen", "Sorensen", "Rasmussen", "Kristensen", "Madsen", "Berger", "Lindqvist",
	"Kovac", "Horvat", "Novotny", "Dvorak", "Kowalczyk", "Wojcik", "Lewandowski", "Zielinski", "Szabo", "Toth",
	"Tanaka", "Yamamoto", "Sato", "Park", "Lee", "Sharma", "Kumar", "Das", "Ali", "Hussain",
}

// Group names: level 2 are regions or sites, level 3 are teams.
var sites = []string{
	"Berlin", "Hamburg", "Munich", "Vienna", "Zurich", "Lisbon", "Madrid", "Dublin", "Warsaw", "Prague",
	"Lyon", "Milan", "Porto", "Krakow", "Leipzig", "Graz", "Basel", "Seville", "Cork", "Brno",
}

var teams = []string{
	"Billing", "Onboarding", "Retention", "Sales", "Tech Support", "Escalations", "Claims", "Returns", "Chat", "Back Office",
	"Loyalty", "Outbound", "Premium", "Mobile", "Broadband", "Payments", "Fraud", "Quality", "Training", "Night Shift",
}
