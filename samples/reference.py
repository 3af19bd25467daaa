"""The reference lists the sample generator draws from: institutions, collections, taxa, people, countries and
their names as typed, and the CMS vocabularies."""
from __future__ import annotations

INSTITUTIONS = [
    # institution_id, code, name, ror_id
    (1, "RBINS", "Royal Belgian Institute of Natural Sciences", "https://ror.org/02y22ws83"),
    (2, "MBG", "Meise Botanic Garden", "https://ror.org/01h1jbk91"),
]

COLLECTIONS = [
    # collection_id, institution_id, code, name, discipline, share of specimens, catalog prefix
    (1, 1, "ENT", "Entomology", "zoology", 0.40, "RBINS-ENT"),
    (2, 1, "VERT", "Vertebrates", "zoology", 0.15, "RBINS-VERT"),
    (3, 1, "MOLL", "Malacology", "zoology", 0.10, "RBINS-MOLL"),
    (4, 1, "PAL", "Palaeontology", "palaeontology", 0.08, "RBINS-PAL"),
    (5, 1, "GEO", "Geology and Mineralogy", "geology", 0.0, "RBINS-GEO"),  # registered, nothing mobilised
    (6, 2, "BR", "Herbarium", "botany", 0.27, "BR"),
]

# "collection code | kingdom > phylum > class > order > family | Genus epithet [infraspecific] Author; ..."
_TAXA = """
ENT  | Animalia > Arthropoda > Insecta > Lepidoptera > Lycaenidae | Lycaena dispar (Haworth, 1803); Lycaena dispar batavus (Oberthür, 1923); Lycaena dispar rutilus (Werneburg, 1864); Lycaena phlaeas (Linnaeus, 1761); Polyommatus icarus (Rottemburg, 1775); Cupido minimus (Fuessly, 1775); Phengaris arion (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Lepidoptera > Nymphalidae | Vanessa atalanta (Linnaeus, 1758); Vanessa cardui (Linnaeus, 1758); Aglais io (Linnaeus, 1758); Aglais urticae (Linnaeus, 1758); Charaxes jasius (Linnaeus, 1767); Danaus chrysippus (Linnaeus, 1758); Apatura iris (Linnaeus, 1758); Pararge aegeria (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Lepidoptera > Papilionidae | Papilio machaon Linnaeus, 1758; Papilio dardanus Brown, 1776; Iphiclides podalirius (Linnaeus, 1758); Parnassius apollo (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Lepidoptera > Pieridae | Pieris rapae (Linnaeus, 1758); Pieris brassicae (Linnaeus, 1758); Gonepteryx rhamni (Linnaeus, 1758); Anthocharis cardamines (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Lepidoptera > Sphingidae | Acherontia atropos (Linnaeus, 1758); Sphinx ligustri Linnaeus, 1758
ENT  | Animalia > Arthropoda > Insecta > Lepidoptera > Saturniidae | Saturnia pavonia (Linnaeus, 1758); Gonimbrasia belina (Westwood, 1849)
ENT  | Animalia > Arthropoda > Insecta > Coleoptera > Carabidae | Carabus auratus Linnaeus, 1761; Carabus violaceus Linnaeus, 1758; Carabus nemoralis O.F. Müller, 1764; Calosoma sycophanta (Linnaeus, 1758); Cicindela campestris Linnaeus, 1758; Pterostichus niger (Schaller, 1783)
ENT  | Animalia > Arthropoda > Insecta > Coleoptera > Lucanidae | Lucanus cervus (Linnaeus, 1758); Dorcus parallelipipedus (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Coleoptera > Scarabaeidae | Goliathus goliatus (Drury, 1770); Melolontha melolontha (Linnaeus, 1758); Cetonia aurata (Linnaeus, 1761); Oryctes nasicornis (Linnaeus, 1758); Scarabaeus sacer Linnaeus, 1758
ENT  | Animalia > Arthropoda > Insecta > Coleoptera > Coccinellidae | Coccinella septempunctata Linnaeus, 1758; Adalia bipunctata (Linnaeus, 1758); Harmonia axyridis (Pallas, 1773)
ENT  | Animalia > Arthropoda > Insecta > Coleoptera > Cerambycidae | Cerambyx cerdo Linnaeus, 1758; Rosalia alpina (Linnaeus, 1758); Petrognatha gigas (Fabricius, 1792)
ENT  | Animalia > Arthropoda > Insecta > Coleoptera > Dytiscidae | Dytiscus marginalis Linnaeus, 1758
ENT  | Animalia > Arthropoda > Insecta > Coleoptera > Curculionidae | Curculio nucum Linnaeus, 1758; Hylobius abietis (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Hymenoptera > Apidae | Apis mellifera Linnaeus, 1758; Bombus terrestris (Linnaeus, 1758); Bombus pascuorum (Scopoli, 1763); Xylocopa violacea (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Hymenoptera > Formicidae | Formica rufa Linnaeus, 1761; Lasius niger (Linnaeus, 1758); Myrmica rubra (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Hymenoptera > Vespidae | Vespa crabro Linnaeus, 1758; Vespula vulgaris (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Odonata > Aeshnidae | Aeshna cyanea (O.F. Müller, 1764); Anax imperator Leach, 1815
ENT  | Animalia > Arthropoda > Insecta > Odonata > Libellulidae | Libellula depressa Linnaeus, 1758; Sympetrum striolatum (Charpentier, 1840)
ENT  | Animalia > Arthropoda > Insecta > Odonata > Calopterygidae | Calopteryx splendens (Harris, 1780); Calopteryx virgo (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Diptera > Syrphidae | Episyrphus balteatus (De Geer, 1776); Eristalis tenax (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Diptera > Glossinidae | Glossina palpalis (Robineau-Desvoidy, 1830); Glossina morsitans Westwood, 1851
ENT  | Animalia > Arthropoda > Insecta > Diptera > Culicidae | Anopheles gambiae Giles, 1902; Culex pipiens Linnaeus, 1758; Aedes aegypti (Linnaeus, 1762)
ENT  | Animalia > Arthropoda > Insecta > Orthoptera > Acrididae | Locusta migratoria (Linnaeus, 1758); Schistocerca gregaria (Forsskål, 1775)
ENT  | Animalia > Arthropoda > Insecta > Orthoptera > Tettigoniidae | Tettigonia viridissima (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Insecta > Hemiptera > Pentatomidae | Palomena prasina (Linnaeus, 1761); Pentatoma rufipes (Linnaeus, 1758)
ENT  | Animalia > Arthropoda > Arachnida > Araneae > Araneidae | Araneus diadematus Clerck, 1757; Argiope bruennichi (Scopoli, 1772)
ENT  | Animalia > Arthropoda > Arachnida > Araneae > Theraphosidae | Pelinobius muticus Karsch, 1885
ENT  | Animalia > Arthropoda > Arachnida > Scorpiones > Buthidae | Androctonus australis (Linnaeus, 1758)
VERT | Animalia > Chordata > Mammalia > Primates > Hominidae | Pan troglodytes (Blumenbach, 1775); Pan troglodytes schweinfurthii (Giglioli, 1872); Pan paniscus Schwarz, 1929; Gorilla gorilla (Savage, 1847); Gorilla gorilla gorilla (Savage, 1847); Gorilla beringei Matschie, 1903
VERT | Animalia > Chordata > Mammalia > Primates > Cercopithecidae | Colobus guereza Rüppell, 1835; Cercopithecus mitis Wolf, 1822; Papio anubis (Lesson, 1827)
VERT | Animalia > Chordata > Mammalia > Carnivora > Felidae | Panthera leo (Linnaeus, 1758); Panthera pardus (Linnaeus, 1758); Felis silvestris Schreber, 1777; Lynx lynx (Linnaeus, 1758)
VERT | Animalia > Chordata > Mammalia > Carnivora > Canidae | Vulpes vulpes (Linnaeus, 1758); Canis lupus Linnaeus, 1758
VERT | Animalia > Chordata > Mammalia > Carnivora > Mustelidae | Meles meles (Linnaeus, 1758); Lutra lutra (Linnaeus, 1758); Martes martes (Linnaeus, 1758); Mustela erminea Linnaeus, 1758
VERT | Animalia > Chordata > Mammalia > Rodentia > Muridae | Apodemus sylvaticus (Linnaeus, 1758); Mus musculus Linnaeus, 1758; Rattus rattus (Linnaeus, 1758); Rattus norvegicus (Berkenhout, 1769)
VERT | Animalia > Chordata > Mammalia > Rodentia > Sciuridae | Sciurus vulgaris Linnaeus, 1758
VERT | Animalia > Chordata > Mammalia > Rodentia > Castoridae | Castor fiber Linnaeus, 1758
VERT | Animalia > Chordata > Mammalia > Chiroptera > Vespertilionidae | Myotis myotis (Borkhausen, 1797); Pipistrellus pipistrellus (Schreber, 1774); Eptesicus serotinus (Schreber, 1774)
VERT | Animalia > Chordata > Mammalia > Chiroptera > Pteropodidae | Eidolon helvum (Kerr, 1792); Hypsignathus monstrosus H. Allen, 1861
VERT | Animalia > Chordata > Mammalia > Proboscidea > Elephantidae | Loxodonta africana (Blumenbach, 1797); Loxodonta cyclotis (Matschie, 1900)
VERT | Animalia > Chordata > Mammalia > Artiodactyla > Giraffidae | Okapia johnstoni (P.L. Sclater, 1901)
VERT | Animalia > Chordata > Mammalia > Artiodactyla > Bovidae | Syncerus caffer (Sparrman, 1779); Tragelaphus spekii Speke, 1863
VERT | Animalia > Chordata > Mammalia > Artiodactyla > Hippopotamidae | Hippopotamus amphibius Linnaeus, 1758
VERT | Animalia > Chordata > Mammalia > Artiodactyla > Cervidae | Cervus elaphus Linnaeus, 1758; Capreolus capreolus (Linnaeus, 1758)
VERT | Animalia > Chordata > Mammalia > Eulipotyphla > Erinaceidae | Erinaceus europaeus Linnaeus, 1758
VERT | Animalia > Chordata > Mammalia > Eulipotyphla > Soricidae | Sorex araneus Linnaeus, 1758; Crocidura russula (Hermann, 1780)
VERT | Animalia > Chordata > Aves > Passeriformes > Paridae | Parus major Linnaeus, 1758; Parus major major Linnaeus, 1758; Cyanistes caeruleus (Linnaeus, 1758); Periparus ater (Linnaeus, 1758)
VERT | Animalia > Chordata > Aves > Passeriformes > Turdidae | Turdus merula Linnaeus, 1758; Turdus philomelos C.L. Brehm, 1831
VERT | Animalia > Chordata > Aves > Passeriformes > Muscicapidae | Erithacus rubecula (Linnaeus, 1758); Luscinia megarhynchos C.L. Brehm, 1831
VERT | Animalia > Chordata > Aves > Passeriformes > Corvidae | Corvus corax Linnaeus, 1758; Pica pica (Linnaeus, 1758); Garrulus glandarius (Linnaeus, 1758)
VERT | Animalia > Chordata > Aves > Passeriformes > Fringillidae | Fringilla coelebs Linnaeus, 1758; Carduelis carduelis (Linnaeus, 1758)
VERT | Animalia > Chordata > Aves > Accipitriformes > Accipitridae | Buteo buteo (Linnaeus, 1758); Accipiter nisus (Linnaeus, 1758); Aquila chrysaetos (Linnaeus, 1758); Haliaeetus vocifer (Daudin, 1800)
VERT | Animalia > Chordata > Aves > Strigiformes > Strigidae | Bubo bubo (Linnaeus, 1758); Athene noctua (Scopoli, 1769); Strix aluco Linnaeus, 1758
VERT | Animalia > Chordata > Aves > Strigiformes > Tytonidae | Tyto alba (Scopoli, 1769)
VERT | Animalia > Chordata > Aves > Galliformes > Phasianidae | Afropavo congensis Chapin, 1936; Phasianus colchicus Linnaeus, 1758; Perdix perdix (Linnaeus, 1758)
VERT | Animalia > Chordata > Aves > Anseriformes > Anatidae | Anas platyrhynchos Linnaeus, 1758; Cygnus olor (J.F. Gmelin, 1789); Anser anser (Linnaeus, 1758)
VERT | Animalia > Chordata > Aves > Psittaciformes > Psittacidae | Psittacus erithacus Linnaeus, 1758
VERT | Animalia > Chordata > Reptilia > Squamata > Viperidae | Vipera berus (Linnaeus, 1758); Bitis gabonica (Duméril, Bibron & Duméril, 1854); Bitis arietans (Merrem, 1820)
VERT | Animalia > Chordata > Reptilia > Squamata > Lacertidae | Lacerta agilis Linnaeus, 1758; Zootoca vivipara (Lichtenstein, 1823); Podarcis muralis (Laurenti, 1768)
VERT | Animalia > Chordata > Reptilia > Squamata > Chamaeleonidae | Chamaeleo chamaeleon (Linnaeus, 1758); Trioceros jacksonii (Boulenger, 1896)
VERT | Animalia > Chordata > Reptilia > Squamata > Elapidae | Dendroaspis jamesoni (Traill, 1843); Naja melanoleuca Hallowell, 1857
VERT | Animalia > Chordata > Reptilia > Testudines > Testudinidae | Kinixys belliana Gray, 1831; Testudo hermanni Gmelin, 1789
VERT | Animalia > Chordata > Reptilia > Crocodylia > Crocodylidae | Crocodylus niloticus Laurenti, 1768; Osteolaemus tetraspis Cope, 1861
VERT | Animalia > Chordata > Amphibia > Anura > Ranidae | Rana temporaria Linnaeus, 1758; Pelophylax lessonae (Camerano, 1882)
VERT | Animalia > Chordata > Amphibia > Anura > Bufonidae | Bufo bufo (Linnaeus, 1758); Epidalea calamita (Laurenti, 1768)
VERT | Animalia > Chordata > Amphibia > Anura > Pipidae | Xenopus laevis (Daudin, 1802)
VERT | Animalia > Chordata > Amphibia > Caudata > Salamandridae | Salamandra salamandra (Linnaeus, 1758); Triturus cristatus (Laurenti, 1768); Ichthyosaura alpestris (Laurenti, 1768)
VERT | Animalia > Chordata > Actinopterygii > Cypriniformes > Cyprinidae | Cyprinus carpio Linnaeus, 1758; Barbus barbus (Linnaeus, 1758); Carassius carassius (Linnaeus, 1758)
VERT | Animalia > Chordata > Actinopterygii > Salmoniformes > Salmonidae | Salmo trutta Linnaeus, 1758; Salmo salar Linnaeus, 1758; Thymallus thymallus (Linnaeus, 1758)
VERT | Animalia > Chordata > Actinopterygii > Cichliformes > Cichlidae | Oreochromis niloticus (Linnaeus, 1758); Hemichromis bimaculatus Gill, 1862
VERT | Animalia > Chordata > Actinopterygii > Esociformes > Esocidae | Esox lucius Linnaeus, 1758
VERT | Animalia > Chordata > Actinopterygii > Perciformes > Percidae | Perca fluviatilis Linnaeus, 1758; Sander lucioperca (Linnaeus, 1758)
VERT | Animalia > Chordata > Actinopterygii > Gadiformes > Gadidae | Gadus morhua Linnaeus, 1758; Merlangius merlangus (Linnaeus, 1758)
VERT | Animalia > Chordata > Actinopterygii > Pleuronectiformes > Pleuronectidae | Pleuronectes platessa Linnaeus, 1758
MOLL | Animalia > Mollusca > Gastropoda > Stylommatophora > Helicidae | Helix pomatia Linnaeus, 1758; Cepaea nemoralis (Linnaeus, 1758); Cepaea hortensis (O.F. Müller, 1774); Cornu aspersum (O.F. Müller, 1774)
MOLL | Animalia > Mollusca > Gastropoda > Stylommatophora > Achatinidae | Achatina achatina (Linnaeus, 1758); Lissachatina fulica (Bowdich, 1822)
MOLL | Animalia > Mollusca > Gastropoda > Stylommatophora > Clausiliidae | Clausilia bidentata (Strøm, 1765)
MOLL | Animalia > Mollusca > Gastropoda > Neogastropoda > Conidae | Conus textile Linnaeus, 1758; Conus marmoreus Linnaeus, 1758; Conus geographus Linnaeus, 1758
MOLL | Animalia > Mollusca > Gastropoda > Neogastropoda > Muricidae | Bolinus brandaris (Linnaeus, 1758); Nucella lapillus (Linnaeus, 1758)
MOLL | Animalia > Mollusca > Gastropoda > Neogastropoda > Buccinidae | Buccinum undatum Linnaeus, 1758
MOLL | Animalia > Mollusca > Gastropoda > Littorinimorpha > Cypraeidae | Monetaria moneta (Linnaeus, 1758); Cypraea tigris Linnaeus, 1758
MOLL | Animalia > Mollusca > Gastropoda > Littorinimorpha > Littorinidae | Littorina littorea (Linnaeus, 1758)
MOLL | Animalia > Mollusca > Bivalvia > Mytilida > Mytilidae | Mytilus edulis Linnaeus, 1758
MOLL | Animalia > Mollusca > Bivalvia > Unionida > Unionidae | Unio pictorum (Linnaeus, 1758); Anodonta cygnea (Linnaeus, 1758)
MOLL | Animalia > Mollusca > Bivalvia > Cardiida > Cardiidae | Cerastoderma edule (Linnaeus, 1758)
MOLL | Animalia > Mollusca > Bivalvia > Ostreida > Ostreidae | Ostrea edulis Linnaeus, 1758
MOLL | Animalia > Mollusca > Cephalopoda > Sepiida > Sepiidae | Sepia officinalis Linnaeus, 1758
MOLL | Animalia > Mollusca > Cephalopoda > Octopoda > Octopodidae | Octopus vulgaris Cuvier, 1797
PAL  | Animalia > Chordata > Reptilia > Ornithischia > Iguanodontidae | Iguanodon bernissartensis Boulenger, 1881
PAL  | Animalia > Chordata > Reptilia > Squamata > Mosasauridae | Mosasaurus hoffmannii Mantell, 1829
PAL  | Animalia > Chordata > Mammalia > Proboscidea > Elephantidae | Mammuthus primigenius (Blumenbach, 1799)
PAL  | Animalia > Chordata > Mammalia > Perissodactyla > Rhinocerotidae | Coelodonta antiquitatis (Blumenbach, 1799)
PAL  | Animalia > Chordata > Mammalia > Carnivora > Ursidae | Ursus spelaeus Rosenmüller, 1794
PAL  | Animalia > Chordata > Mammalia > Primates > Hominidae | Homo neanderthalensis King, 1864
PAL  | Animalia > Mollusca > Cephalopoda > Ammonitida > Hildoceratidae | Hildoceras bifrons (Bruguière, 1789)
PAL  | Animalia > Arthropoda > Trilobita > Phacopida > Phacopidae | Phacops latifrons (Bronn, 1825)
PAL  | Animalia > Echinodermata > Echinoidea > Holasteroida > Holasteridae | Echinocorys scutata Leske, 1778
PAL  | Animalia > Brachiopoda > Rhynchonellata > Spiriferida > Spiriferidae | Spirifer striatus (Martin, 1809)
PAL  | Plantae > Tracheophyta > Lycopodiopsida > Lepidodendrales > Lepidodendraceae | Lepidodendron aculeatum Sternb.
PAL  | Plantae > Tracheophyta > Polypodiopsida > Equisetales > Calamitaceae | Calamites suckowii Brongn.
BR   | Plantae > Tracheophyta > Magnoliopsida > Fabales > Fabaceae | Trifolium pratense L.; Trifolium repens L.; Lotus corniculatus L.; Vicia sepium L.; Brachystegia spiciformis Benth.; Pterocarpus angolensis DC.
BR   | Plantae > Tracheophyta > Magnoliopsida > Rosales > Rosaceae | Rosa canina L.; Crataegus monogyna Jacq.; Prunus spinosa L.; Potentilla erecta (L.) Raeusch.
BR   | Plantae > Tracheophyta > Magnoliopsida > Rosales > Urticaceae | Urtica dioica L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Asterales > Asteraceae | Bellis perennis L.; Taraxacum officinale F.H.Wigg.; Achillea millefolium L.; Arnica montana L.; Centaurea jacea L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Lamiales > Lamiaceae | Mentha aquatica L.; Lamium album L.; Thymus serpyllum L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Lamiales > Plantaginaceae | Plantago lanceolata L.; Digitalis purpurea L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Gentianales > Rubiaceae | Coffea arabica L.; Coffea canephora Pierre ex A.Froehner; Galium aparine L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Gentianales > Gentianaceae | Gentiana pneumonanthe L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Fagales > Fagaceae | Fagus sylvatica L.; Quercus robur L.; Quercus petraea (Matt.) Liebl.
BR   | Plantae > Tracheophyta > Magnoliopsida > Fagales > Betulaceae | Betula pendula Roth; Alnus glutinosa (L.) Gaertn.; Carpinus betulus L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Caryophyllales > Caryophyllaceae | Silene dioica (L.) Clairv.; Stellaria holostea L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Caryophyllales > Droseraceae | Drosera rotundifolia L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Ranunculales > Ranunculaceae | Ranunculus acris L.; Anemone nemorosa L.; Caltha palustris L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Ericales > Ericaceae | Calluna vulgaris (L.) Hull; Erica tetralix L.; Vaccinium myrtillus L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Malpighiales > Violaceae | Viola odorata L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Malpighiales > Salicaceae | Salix alba L.
BR   | Plantae > Tracheophyta > Magnoliopsida > Brassicales > Brassicaceae | Arabidopsis thaliana (L.) Heynh.; Cardamine pratensis L.
BR   | Plantae > Tracheophyta > Liliopsida > Asparagales > Orchidaceae | Orchis mascula (L.) L.; Dactylorhiza maculata (L.) Soó; Ophrys apifera Huds.; Epipactis helleborine (L.) Crantz
BR   | Plantae > Tracheophyta > Liliopsida > Asparagales > Asparagaceae | Hyacinthoides non-scripta (L.) Chouard ex Rothm.
BR   | Plantae > Tracheophyta > Liliopsida > Asparagales > Amaryllidaceae | Allium ursinum L.
BR   | Plantae > Tracheophyta > Liliopsida > Poales > Poaceae | Poa annua L.; Festuca rubra L.; Phragmites australis (Cav.) Trin. ex Steud.; Zea mays L.
BR   | Plantae > Tracheophyta > Liliopsida > Poales > Cyperaceae | Carex pendula Huds.; Cyperus papyrus L.
BR   | Plantae > Tracheophyta > Liliopsida > Poales > Juncaceae | Juncus effusus L.
BR   | Plantae > Tracheophyta > Liliopsida > Arecales > Arecaceae | Elaeis guineensis Jacq.; Raphia farinifera (Gaertn.) Hyl.
BR   | Plantae > Tracheophyta > Liliopsida > Zingiberales > Musaceae | Musa acuminata Colla
BR   | Plantae > Tracheophyta > Pinopsida > Pinales > Pinaceae | Pinus sylvestris L.; Picea abies (L.) H.Karst.; Abies alba Mill.; Larix decidua Mill.
BR   | Plantae > Tracheophyta > Pinopsida > Cupressales > Cupressaceae | Juniperus communis L.
BR   | Plantae > Tracheophyta > Pinopsida > Cupressales > Taxaceae | Taxus baccata L.
BR   | Plantae > Tracheophyta > Polypodiopsida > Polypodiales > Aspleniaceae | Asplenium scolopendrium L.; Asplenium trichomanes L.
BR   | Plantae > Tracheophyta > Polypodiopsida > Polypodiales > Dryopteridaceae | Dryopteris filix-mas (L.) Schott
BR   | Plantae > Tracheophyta > Polypodiopsida > Polypodiales > Dennstaedtiaceae | Pteridium aquilinum (L.) Kuhn
BR   | Plantae > Tracheophyta > Polypodiopsida > Osmundales > Osmundaceae | Osmunda regalis L.
BR   | Plantae > Tracheophyta > Polypodiopsida > Equisetales > Equisetaceae | Equisetum arvense L.
BR   | Plantae > Tracheophyta > Lycopodiopsida > Lycopodiales > Lycopodiaceae | Lycopodium clavatum L.
BR   | Plantae > Bryophyta > Bryopsida > Hypnales > Hypnaceae | Hypnum cupressiforme Hedw.
BR   | Plantae > Bryophyta > Sphagnopsida > Sphagnales > Sphagnaceae | Sphagnum palustre L.
BR   | Plantae > Bryophyta > Polytrichopsida > Polytrichales > Polytrichaceae | Polytrichum commune Hedw.
"""

_HIGHER_RANKS = ("kingdom", "phylum", "class", "order", "family")

GIVEN_NAMES = [
    "Émile", "Jiří", "Søren", "Hiroshi", "Thi Lan", "Jan", "Pieter", "Marie", "Anne", "Léon", "François",
    "Hélène", "Zoë", "Björn", "Ágnes", "Małgorzata", "Łukasz", "José", "Mónica", "Jürgen", "Chloé", "Noël",
    "Céline", "Kwame", "Amani", "Yūki", "Mbuyi", "Lieve", "Geert", "Sofie", "Wim", "Kristof", "Inès", "Raphaël",
    "Ørjan", "Dagný", "Siobhán", "Gustave", "Henri", "Louise",
]
FAMILY_NAMES = [
    "Löwenthal", "Novák", "Ōkubo", "Nguyễn", "Ferrández", "De Smet", "Peeters", "Janssens", "Van den Broeck",
    "Dubois", "Lefèvre", "Müller", "Schröder", "Ørsted", "Dvořák", "Kowalski", "Wiśniewska", "García", "Muñoz",
    "Ilunga", "Mukendi", "Kabongo", "O'Brien", "D'Hondt", "Çelik", "Jørgensen", "Åström", "Öztürk", "Þórsson",
    "Vandenberghe", "Maes", "Claes", "Willems", "Lambert", "Dupont", "Verhaegen", "Mertens", "Tshibanda",
    "Nzuzi", "Sánchez",
]

# key, weight, country labels as typed (label: weight), (lat min, lat max, lon min, lon max), provinces, places
COUNTRIES = [
    ("BE", 0.40, {"Belgium": 3, "België": 3, "Belgique": 2.5, "BE": 1, "belgium": 0.5},
     (49.5, 51.5, 2.55, 6.4),
     ["Antwerpen", "Brabant", "Vlaams-Brabant", "Brabant wallon", "Liège", "Luik", "Namur", "Hainaut",
      "Henegouwen", "Luxembourg", "Limburg", "West-Vlaanderen", "Oost-Vlaanderen"],
     ["Bruxelles", "Brussel", "Forêt de Soignes", "Zoniënwoud", "Tervuren", "Sint-Genesius-Rode", "Han-sur-Lesse",
      "Rochefort", "De Panne", "Kalmthoutse Heide", "Genk", "Virelles", "Bernissart", "Spy", "Hautes Fagnes",
      "Hoge Venen", "Oostende", "Knokke"]),
    ("CD", 0.18, {"Democratic Republic of the Congo": 2, "Democratische Republiek Congo": 1.5,
                  "République démocratique du Congo": 1.5, "CD": 0.5, "Belgian Congo": 1.5, "Congo belge": 1,
                  "Zaïre": 1, "Zaire": 0.5, "Congo": 0.5},
     (-13.4, 5.3, 12.3, 31.2),
     ["Katanga", "Haut-Katanga", "Kivu", "Nord-Kivu", "Sud-Kivu", "Équateur", "Kasaï", "Bas-Congo",
      "Kongo-Central", "Orientale", "Ituri"],
     ["Élisabethville", "Lubumbashi", "Léopoldville", "Kinshasa", "Stanleyville", "Kisangani",
      "Parc National Albert", "Virunga", "Rwindi", "Lulua", "Kamina", "Eala", "Yangambi", "Mayumbe", "Garamba",
      "Upemba", "Lac Tanganika", "Mont Ruwenzori"]),
    ("FR", 0.08, {"France": 3, "Frankrijk": 2, "FR": 0.5},
     (42.4, 51.0, -4.7, 8.1),
     ["Île-de-France", "Bretagne", "Provence-Alpes-Côte d'Azur", "Corse", "Nord", "Ardennes"],
     ["Fontainebleau", "Forêt de Compiègne", "Camargue", "Chamonix", "Banyuls-sur-Mer", "Roscoff", "Ajaccio"]),
    ("NL", 0.05, {"Netherlands": 2, "Nederland": 2, "Pays-Bas": 1, "Holland": 0.5, "NL": 0.5},
     (50.8, 53.4, 3.4, 7.1),
     ["Limburg", "Zeeland", "Noord-Brabant", "Gelderland", "Friesland"],
     ["Maastricht", "Sint-Pietersberg", "Veluwe", "Texel", "Schiermonnikoog"]),
    ("DE", 0.05, {"Germany": 2, "Duitsland": 2, "Allemagne": 2, "Deutschland": 1, "DE": 0.5},
     (47.4, 54.9, 6.0, 14.9),
     ["Nordrhein-Westfalen", "Bayern", "Rheinland-Pfalz", "Baden-Württemberg", "Niedersachsen"],
     ["Aachen", "Eifel", "Schwarzwald", "Garmisch-Partenkirchen", "Lüneburger Heide", "Köln"]),
    ("RW", 0.03, {"Rwanda": 2, "Ruanda": 1, "Ruanda-Urundi": 1, "RW": 0.3},
     (-2.8, -1.1, 28.9, 30.8), ["Ruhengeri", "Gisenyi", "Province du Nord"], ["Nyungwe", "Volcans", "Butare"]),
    ("BI", 0.02, {"Burundi": 2, "Urundi": 1, "Ruanda-Urundi": 1, "BI": 0.3},
     (-4.4, -2.4, 29.1, 30.8), ["Bujumbura", "Bururi"], ["Bujumbura", "Usumbura", "Kibira"]),
    ("TZ", 0.02, {"Tanzania": 2, "Tanzanie": 1, "Tanganyika": 1, "TZ": 0.3},
     (-11.6, -1.1, 29.4, 40.3), ["Kigoma", "Arusha", "Zanzibar"], ["Kigoma", "Arusha", "Mount Kilimanjaro"]),
    ("ES", 0.03, {"Spain": 2, "Spanje": 1, "Espagne": 1, "España": 1, "ES": 0.3},
     (36.1, 43.7, -9.2, 3.2), ["Andalucía", "Cataluña", "Asturias"],
     ["Sierra Nevada", "Doñana", "Picos de Europa", "Montseny"]),
    ("CZ", 0.02, {"Czech Republic": 2, "Czechia": 1, "Tsjechië": 1, "Česko": 1, "Czechoslovakia": 1,
                  "Tchécoslovaquie": 0.5, "CZ": 0.3},
     (48.6, 51.0, 12.2, 18.8), ["Bohemia", "Moravia", "Čechy"], ["Šumava", "Krkonoše", "Brno", "Praha"]),
    ("DK", 0.02, {"Denmark": 2, "Danemark": 1, "Denemarken": 1, "Danmark": 1, "DK": 0.3},
     (54.6, 57.7, 8.1, 12.6), ["Sjælland", "Jylland"], ["Møns Klint", "Skagen", "København"]),
    ("VN", 0.03, {"Vietnam": 2, "Viêt Nam": 1, "Việt Nam": 1, "VN": 0.3},
     (8.7, 23.3, 102.2, 109.4), ["Lâm Đồng", "Lào Cai", "Quảng Nam"], ["Đà Lạt", "Sa Pa", "Cúc Phương", "Tam Đảo"]),
    ("JP", 0.02, {"Japan": 2, "Japon": 1, "Japan (Nippon)": 0.3, "JP": 0.3},
     (31.1, 44.9, 129.6, 145.4), ["Hokkaidō", "Honshū", "Kyūshū"], ["Ōsaka", "Kyōto", "Nikkō", "Takao-san"]),
    ("ID", 0.03, {"Indonesia": 2, "Indonésie": 1, "Nederlands-Indië": 1, "Dutch East Indies": 1, "ID": 0.3},
     (-10.8, 5.8, 95.1, 140.9), ["Java", "Sumatra", "Sulawesi", "Papua"],
     ["Buitenzorg", "Bogor", "Tjibodas", "Lore Lindu"]),
    ("BR", 0.02, {"Brazil": 2, "Brésil": 1, "Brazilië": 1, "Brasil": 1, "BR": 0.3},
     (-33.6, 5.2, -73.8, -34.9), ["Pará", "Amazonas", "Minas Gerais", "São Paulo"],
     ["Belém", "Manaus", "Serra do Cipó"]),
]
UNKNOWN_COUNTRIES = ["Atlantis", "unknown", "?", "Terra incognita"]

_HABITATS = [
    "deciduous forest", "bois de hêtres", "heide", "savane arborée", "forêt galerie", "on Quercus robur",
    "sous pierre", "under bark of dead Fagus", "grassland, calcareous", "kalkgrasland", "marais", "moeras",
    "rocky shore", "dunes", "montane forest, 2100 m", "bord de route", "in leaf litter", "epiphyte on Salix",
]
_PROTOCOLS = {"hand collecting": 4, "light trap": 2, "Malaise trap": 1, "pitfall trap": 1, "sweep net": 1,
              "mist net": 0.5, "dredge": 0.5, "": 0.5, None: 6}
_REMARKS = [
    "ex coll. Löwenthal",
    "Label: \"Congo belge, Kasaï\"",
    "Etiket: 'leg. P. Janssens'",
    "Label 1:\tCongo belge\nLabel 2:\tleg. Dr. Émile Dubois",
    "old label reads \"Zaïre\"\t(transcribed 1998)",
    "specimen damaged; abdomen missing",
    "Étiquette illisible",
    "det. label lost",
    "Holotype label in red: \"TYPUS\"",
    "pinned by O'Brien's team",
    "voir aussi le carnet de terrain n° 12\r\nfield notebook p. 34",
    "coll. Nguyễn Thi Lan — duplicate in Hà Nội",
    "2 labels:\n  1) \"Stanleyville, 1923\"\n  2) 'det. Schröder'",
    "mould on label",
    "sent on loan 2011-03; returned",
    "DNA extracted (tissue in −80 °C freezer)",
]
_NOT_PUBLIC_REMARKS = ["CITES Appendix I – do not publish", "confidential locality (protected species)",
                       "donor restriction: not for publication"]

_BASIS = {
    "ENT": {"preserved specimen": 50, "PreservedSpecimen": 30, "Preserved Specimen": 15, "material sample": 5},
    "VERT": {"preserved specimen": 45, "PreservedSpecimen": 30, "Preserved Specimen": 13, "material sample": 10,
             "living specimen": 2},
    "MOLL": {"preserved specimen": 50, "PreservedSpecimen": 35, "Preserved Specimen": 15},
    "PAL": {"fossil": 60, "Fossil specimen": 40},
    "BR": {"herbarium sheet": 60, "PreservedSpecimen": 30, "living specimen": 5, "material sample": 5},
}
_SEX = {
    "ENT": {None: 45, "": 5, "M": 10, "F": 10, "♂": 10, "♀": 10, "male": 3, "female": 3, "?": 2, "m/f": 2},
    "VERT": {None: 30, "M": 15, "F": 15, "male": 10, "female": 10, "mâle": 5, "vrouwelijk": 5, "unknown": 5,
             "?": 5},
    "MOLL": {None: 97, "": 3},
}
_LIFE_STAGE = {
    "ENT": {"imago": 30, "adult": 20, "ad.": 5, "larva": 10, "pupa": 5, "egg": 2, "L3": 3, None: 20, "": 5},
    "VERT": {"adult": 40, "ad.": 10, "juv.": 10, "juvenile": 10, None: 25, "": 5},
    "MOLL": {None: 90, "adult": 5, "juvenile": 5},
}
_PREPARATIONS = {
    "ENT": {"pinned": 70, "ethanol 70%": 15, "slide": 5, "dried": 5, "envelope": 5},
    "VERT": {"skin": 35, "skeleton": 25, "ethanol 70%": 30, "skull": 5, "tissue": 5},
    "MOLL": {"dried": 70, "ethanol 70%": 30},
    "PAL": {"original": 80, "cast": 15, "thin section": 5},
    "BR": {"herbarium sheet": 90, "spirit collection": 4, "carpological": 4, "DNA sample": 2},
}

_MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"],
}
