// Word lists for the storefront catalog: 10 root categories, each with 6 leaf categories. Products are
// named "<brand> <item> - <variant>" from these lists. Brands are invented, to stay clear of real ones.

export interface LeafSpec {
  slug: string;
  name: string;
  items: readonly string[];
  /** Falls back to the root's variants when absent. */
  variants?: readonly string[];
  /** Price range in RM; prices are spread log-uniformly inside it. */
  price: readonly [min: number, max: number];
}

export interface RootSpec {
  slug: string;
  name: string;
  brands: readonly string[];
  variants: readonly string[];
  /** One sentence used in every description in this root. */
  blurb: string;
  leaves: readonly LeafSpec[];
}

export const SELLING_POINTS: readonly string[] = [
  'Official local warranty and free returns within 7 days.',
  'Free shipping in Peninsular Malaysia for orders above RM 80.',
  'Ready stock, packed with care and shipped within 24 hours.',
  'Highly rated by shoppers across Malaysia.',
  'Cash on delivery available in selected areas.',
  'Bundle with other items to save more at checkout.',
  'Genuine product, sourced directly from the brand.',
  'Eligible for 0% instalments with participating banks.',
];

export const SHIPS_FROM: readonly string[] = [
  'Kuala Lumpur',
  'Shah Alam',
  'Petaling Jaya',
  'Johor Bahru',
  'Ipoh',
  'Butterworth',
  'Seremban',
  'Kuantan',
  'Kota Bharu',
  'Kuching',
  'Kota Kinabalu',
  'Melaka',
];

export const CATALOG: readonly RootSpec[] = [
  {
    slug: 'electronics',
    name: 'Electronics',
    brands: ['Bintang', 'Harimau Tech', 'Nusa', 'Petra', 'Zenara', 'Kilat'],
    variants: ['Black', 'White', '2026 Model', 'Twin Pack', 'Grey'],
    blurb: 'Comes with a Malaysian 3-pin plug and a 12-month local warranty.',
    leaves: [
      { slug: 'mobile-phones', name: 'Mobile Phones', items: ['Smartphone', '5G Smartphone', 'Foldable Phone', 'Rugged Phone', 'Feature Phone', 'Kids Smartwatch Phone'], variants: ['128GB', '256GB', '512GB', 'Midnight Black', 'Ocean Blue', 'Dual SIM'], price: [99, 4999] },
      { slug: 'laptops-computers', name: 'Laptops & Computers', items: ['Ultrabook 14"', 'Gaming Laptop 15.6"', '2-in-1 Laptop', 'Mini PC', 'All-in-One Desktop', 'Chromebook'], variants: ['8GB/256GB', '16GB/512GB', '32GB/1TB', 'Core i5', 'Ryzen 7'], price: [899, 4999] },
      { slug: 'audio-headphones', name: 'Audio & Headphones', items: ['Wireless Earbuds', 'Over-Ear Headphones', 'Bluetooth Speaker', 'Soundbar', 'Neckband Earphones', 'Karaoke Microphone'], variants: ['Black', 'White', 'Noise Cancelling', 'Waterproof', 'Bass Boost'], price: [29, 1299] },
      { slug: 'tv-video', name: 'TV & Video', items: ['43" Smart TV', '55" 4K TV', '65" QLED TV', 'Android TV Box', 'Mini Projector', 'TV Wall Mount'], variants: ['2026 Model', 'HDR10', 'Slim Bezel', 'with Soundbar'], price: [49, 4999] },
      { slug: 'cameras-drones', name: 'Cameras & Drones', items: ['Action Camera', 'Mirrorless Camera', 'Dashcam', 'Mini Drone', 'Home Security Camera', 'Instant Camera'], variants: ['4K', '1080p', 'with 64GB Card', 'Twin Pack', 'Night Vision'], price: [59, 4999] },
      { slug: 'gadget-accessories', name: 'Phone & Computer Accessories', items: ['Power Bank 20000mAh', 'USB-C Charger 65W', 'Phone Case', 'Tempered Glass Screen Protector', 'Wireless Mouse', 'Mechanical Keyboard'], variants: ['Black', 'White', 'Twin Pack', 'Fast Charge', 'Type-C'], price: [5, 399] },
    ],
  },
  {
    slug: 'groceries',
    name: 'Groceries',
    brands: ['Kampung Fresh', 'Seri Murni', 'Tanjung', 'Dapur Bonda', 'Pak Mat', 'Sinar Pagi'],
    variants: ['500g', '1kg', 'Pack of 6', 'Family Pack', 'Value Pack'],
    blurb: 'Halal certified and packed fresh in Malaysia.',
    leaves: [
      { slug: 'rice-noodles', name: 'Rice & Noodles', items: ['Beras Wangi Fragrant Rice', 'Basmati Rice', 'Mee Kuning', 'Kuey Teow', 'Bihun Rice Vermicelli', 'Instant Curry Mee'], variants: ['1kg', '5kg', '10kg', 'Pack of 5', 'Family Pack'], price: [2, 89] },
      { slug: 'sauces-pastes', name: 'Sauces & Pastes', items: ['Sambal Tumis', 'Rendang Paste', 'Kicap Manis Sweet Soy Sauce', 'Belacan Shrimp Paste', 'Chilli Sauce', 'Curry Powder'], variants: ['200g', '500g', '1kg', 'Extra Pedas', 'Glass Jar'], price: [2, 39] },
      { slug: 'beverages', name: 'Beverages', items: ['Teh Tarik 3-in-1', 'Kopi O Kaw', 'Ipoh White Coffee', 'Chocolate Malt Drink', 'Bandung Rose Syrup', 'Soya Bean Drink'], variants: ['15 Sachets', '30 Sachets', '1L', 'Pack of 6', 'Less Sugar'], price: [3, 69] },
      { slug: 'snacks-biscuits', name: 'Snacks & Biscuits', items: ['Keropok Lekor Crackers', 'Kuih Bahulu', 'Cream Crackers', 'Kacang Putih', 'Banana Chips', 'Pineapple Tarts'], variants: ['150g', '300g', 'Party Pack', 'Family Tin', 'Spicy'], price: [2, 49] },
      { slug: 'fresh-produce', name: 'Fresh Produce', items: ['Musang King Durian', 'Cameron Highlands Strawberries', 'Harumanis Mango', 'Kangkung', 'Dragon Fruit', 'Cili Padi'], variants: ['250g', '500g', '1kg', 'Organic', 'Premium Grade'], price: [2, 199] },
      { slug: 'pantry-staples', name: 'Pantry Staples', items: ['Santan Coconut Milk', 'Gula Melaka Palm Sugar', 'Ikan Bilis Anchovies', 'Palm Cooking Oil', 'Rolled Oats', 'Kaya Coconut Jam'], variants: ['200ml', '1kg', '2kg', '5kg', 'Value Pack'], price: [2, 79] },
    ],
  },
  {
    slug: 'fashion',
    name: 'Fashion',
    brands: ['Batik Nusantara', 'Kenanga', 'Cendana Studio', 'Songket House', 'UrbanKL', 'Rimba'],
    variants: ['Size S', 'Size M', 'Size L', 'Size XL', 'Black', 'Navy'],
    blurb: 'Designed for the Malaysian climate: light, breathable and easy to care for.',
    leaves: [
      { slug: 'baju-kurung-kebaya', name: 'Baju Kurung & Kebaya', items: ['Baju Kurung Moden', 'Kebaya Nyonya', 'Baju Kurung Pahang', 'Kurung Kedah', 'Kaftan Dress', 'Tudung Bawal'], variants: ['Size S', 'Size M', 'Size L', 'Size XL', 'Dusty Pink', 'Emerald'], price: [29, 699] },
      { slug: 'baju-melayu-menswear', name: "Baju Melayu & Men's Traditional", items: ['Baju Melayu Cekak Musang', 'Baju Melayu Teluk Belanga', 'Batik Shirt', 'Samping Songket', 'Songkok', 'Kurta'], variants: ['Size M', 'Size L', 'Size XL', 'Navy', 'Maroon', 'Slim Fit'], price: [29, 899] },
      { slug: 'womens-clothing', name: "Women's Clothing", items: ['Chiffon Blouse', 'Maxi Dress', 'Palazzo Pants', 'Knit Cardigan', 'Jumpsuit', 'Pleated Skirt'], price: [19, 299] },
      { slug: 'mens-clothing', name: "Men's Clothing", items: ['Polo T-Shirt', 'Chino Pants', 'Denim Jeans', 'Linen Shirt', 'Jogger Pants', 'Hoodie'], price: [19, 299] },
      { slug: 'shoes', name: 'Shoes', items: ['Running Shoes', 'Leather Loafers', 'Slip-On Sneakers', 'Sandals', 'Block Heels', 'School Shoes'], variants: ['EU 38', 'EU 40', 'EU 42', 'EU 44', 'White', 'Black'], price: [15, 699] },
      { slug: 'bags-accessories', name: 'Bags & Accessories', items: ['Tote Bag', 'Backpack', 'Sling Bag', 'Leather Wallet', 'Analog Watch', 'Sunglasses'], variants: ['Black', 'Tan', 'Olive', 'Mini', 'Large'], price: [15, 999] },
    ],
  },
  {
    slug: 'home-living',
    name: 'Home & Living',
    brands: ['Rumah Kita', 'Teratai Home', 'Mutiara', 'DapurKu', 'Selesa', 'Anjung'],
    variants: ['Black', 'White', 'Grey', 'Stainless Steel', '2026 Model'],
    blurb: 'Built for Malaysian homes, from condos in KL to kampung houses.',
    leaves: [
      { slug: 'kitchen-appliances', name: 'Kitchen Appliances', items: ['Rice Cooker 1.8L', 'Air Fryer 5L', 'Blender', 'Electric Kettle', 'Slow Cooker', 'Food Steamer'], price: [39, 1499] },
      { slug: 'cookware', name: 'Cookware & Dining', items: ['Wok 34cm', 'Non-Stick Frying Pan', 'Claypot', 'Tiffin Carrier', 'Knife Set', 'Pressure Cooker'], variants: ['3-Piece Set', '26cm', '30cm', 'Granite Coated', 'Induction Ready'], price: [15, 899] },
      { slug: 'furniture', name: 'Furniture', items: ['Sofa Bed', 'Study Desk', 'Bookshelf', 'Dining Set', 'Wardrobe', 'Rattan Chair'], variants: ['Oak', 'Walnut', 'White', '2-Seater', '3-Seater'], price: [99, 4999] },
      { slug: 'bedding', name: 'Bedding & Curtains', items: ['Bedsheet Set', 'Comforter', 'Memory Foam Pillow', 'Mattress Topper', 'Bolster', 'Blackout Curtains'], variants: ['Single', 'Queen', 'King', 'Cotton 1000TC', 'Grey'], price: [19, 1999] },
      { slug: 'home-improvement', name: 'Home Improvement', items: ['Cordless Drill', 'LED Bulb', 'Ceiling Fan', 'Water Filter', 'Smart Door Lock', 'Tool Box'], variants: ['12V', 'Pack of 4', '56"', 'Daylight', 'Warm White'], price: [9, 1999] },
      { slug: 'cleaning-laundry', name: 'Cleaning & Laundry', items: ['Laundry Detergent', 'Floor Cleaner', 'Cordless Vacuum', 'Mop Set', 'Dishwashing Liquid', 'Robot Vacuum'], variants: ['1L', '3L', 'Refill Pack', 'Lavender', 'Lemon'], price: [4, 2499] },
    ],
  },
  {
    slug: 'health-beauty',
    name: 'Health & Beauty',
    brands: ['Sari Ayu', 'Bunga Raya Botanics', 'Nona', 'Kasturi', 'Tualang', 'Halia'],
    variants: ['30ml', '50ml', '100ml', 'Travel Size', 'Value Pack'],
    blurb: 'Dermatologically tested and registered with the Ministry of Health Malaysia.',
    leaves: [
      { slug: 'skincare', name: 'Skincare', items: ['Facial Cleanser', 'Sunscreen SPF50', 'Vitamin C Serum', 'Moisturiser', 'Sheet Mask', 'Hydrating Toner'], variants: ['30ml', '50ml', '100ml', 'Sensitive Skin', 'Oil Control'], price: [9, 299] },
      { slug: 'makeup', name: 'Makeup', items: ['Matte Lipstick', 'Cushion Foundation', 'Eyeliner', 'Mascara', 'Blusher', 'Setting Powder'], variants: ['Shade 01', 'Shade 02', 'Shade 03', 'Waterproof', 'Long Wear'], price: [9, 199] },
      { slug: 'haircare', name: 'Haircare', items: ['Shampoo', 'Conditioner', 'Hair Oil', 'Hair Dryer', 'Hair Straightener', 'Scalp Tonic'], variants: ['250ml', '500ml', 'Anti-Dandruff', 'For Hijab Wearers', 'Ionic'], price: [7, 699] },
      { slug: 'fragrance', name: 'Fragrance', items: ['Attar Perfume Oil', 'Eau de Parfum', 'Body Mist', 'Oud Perfume', 'Cologne', 'Perfume Gift Set'], variants: ['10ml', '50ml', '100ml', 'Gift Box'], price: [15, 899] },
      { slug: 'health-supplements', name: 'Health Supplements', items: ['Vitamin C 1000mg', 'Tongkat Ali', 'Fish Oil Omega-3', 'Multivitamin', 'Collagen Drink', 'Madu Tualang Honey'], variants: ['30 Tablets', '60 Capsules', '100 Capsules', '500g', '1kg'], price: [15, 399] },
      { slug: 'personal-care', name: 'Personal Care', items: ['Toothpaste', 'Electric Toothbrush', 'Body Wash', 'Deodorant', 'Shaver', 'Hand Sanitiser'], variants: ['Pack of 3', 'Travel Size', '500ml', 'Refill'], price: [3, 499] },
    ],
  },
  {
    slug: 'baby-kids',
    name: 'Baby & Kids',
    brands: ['Si Comel', 'Anak Bijak', 'Tadika', 'Bayu Kecil', 'Manja', 'Ceria'],
    variants: ['Pink', 'Blue', 'Ages 0-3', 'Ages 3+', 'Value Pack'],
    blurb: 'Safety tested and made with gentle, child-friendly materials.',
    leaves: [
      { slug: 'diapers-wipes', name: 'Diapers & Wipes', items: ['Tape Diapers', 'Pants Diapers', 'Baby Wipes', 'Swim Diapers', 'Diaper Rash Cream', 'Changing Mat'], variants: ['Size NB', 'Size M', 'Size XL', 'Jumbo Pack', 'Pack of 3'], price: [5, 159] },
      { slug: 'baby-food-formula', name: 'Baby Food & Formula', items: ['Infant Formula', 'Growing Up Milk', 'Baby Cereal', 'Fruit Puree', 'Rice Porridge', 'Teething Biscuits'], variants: ['400g', '900g', '1.8kg', 'Stage 2', 'Stage 3'], price: [5, 299] },
      { slug: 'toys', name: 'Toys & Games', items: ['Building Blocks', 'Remote Control Car', 'Plush Toy', 'Wooden Puzzle', 'Doll House', 'Congkak Board'], variants: ['Ages 3+', 'Ages 6+', 'Deluxe Set', 'Mini'], price: [9, 599] },
      { slug: 'strollers-car-seats', name: 'Strollers & Car Seats', items: ['Lightweight Stroller', 'Travel System Stroller', 'Convertible Car Seat', 'Booster Seat', 'Baby Carrier', 'Playpen'], price: [99, 2999] },
      { slug: 'kids-clothing', name: "Kids' Clothing", items: ['Baju Kurung Kanak-Kanak', 'School Uniform Set', 'Pyjamas', 'Romper', 'Kids Raincoat', 'Kids Sneakers'], variants: ['Size 2', 'Size 4', 'Size 6', 'Size 8', 'Size 10'], price: [9, 199] },
      { slug: 'nursery-feeding', name: 'Nursery & Feeding', items: ['Baby Cot', 'Baby Monitor', 'Bottle Steriliser', 'Breast Pump', 'Feeding Bottle', 'High Chair'], price: [15, 1999] },
    ],
  },
  {
    slug: 'sports-outdoors',
    name: 'Sports & Outdoors',
    brands: ['Gunung', 'Pantai', 'Lumba', 'Juara', 'Ombak', 'Kinabalu Gear'],
    variants: ['Black', 'Red', 'Blue', 'Pro Edition', 'Starter Set'],
    blurb: 'Tested in tropical heat and monsoon rain.',
    leaves: [
      { slug: 'fitness', name: 'Fitness & Gym', items: ['Yoga Mat', 'Dumbbell Set', 'Resistance Bands', 'Treadmill', 'Exercise Bike', 'Kettlebell'], price: [15, 4999] },
      { slug: 'badminton', name: 'Badminton', items: ['Badminton Racket', 'Shuttlecock Tube', 'Badminton Shoes', 'Racket Bag', 'Grip Tape', 'String Set'], variants: ['3U', '4U', 'Pack of 12', 'Tournament Grade', 'Black'], price: [5, 899] },
      { slug: 'football-futsal', name: 'Football & Futsal', items: ['Futsal Shoes', 'Football', 'Jersey', 'Goalkeeper Gloves', 'Shin Guards', 'Training Cones'], variants: ['Size 4', 'Size 5', 'EU 41', 'EU 43', 'Home Kit', 'Away Kit'], price: [9, 499] },
      { slug: 'camping-hiking', name: 'Camping & Hiking', items: ['Camping Tent', 'Sleeping Bag', 'Hiking Backpack', 'Trekking Poles', 'Headlamp', 'Hammock'], variants: ['2-Person', '4-Person', '40L', 'Ultralight', 'Olive'], price: [15, 1299] },
      { slug: 'cycling', name: 'Cycling', items: ['Road Bike', 'Mountain Bike', 'Folding Bike', 'Bike Helmet', 'Bike Light Set', 'Cycling Jersey'], price: [19, 4999] },
      { slug: 'water-sports', name: 'Water Sports', items: ['Snorkel Set', 'Swim Goggles', 'Life Jacket', 'Stand-Up Paddle Board', 'Kayak Paddle', 'Rash Guard'], price: [9, 2999] },
    ],
  },
  {
    slug: 'automotive',
    name: 'Automotive',
    brands: ['Lebuhraya', 'Pacu', 'Sentosa Auto', 'Gear Pro', 'Roda', 'Pemandu'],
    variants: ['Universal Fit', 'Black', 'Pack of 2', 'Heavy Duty', 'Premium'],
    blurb: 'Fits most cars and motorcycles on Malaysian roads.',
    leaves: [
      { slug: 'car-care', name: 'Car Care', items: ['Car Shampoo', 'Wax Polish', 'Microfiber Cloth', 'Tyre Shine', 'Glass Cleaner', 'Pressure Washer'], price: [5, 899] },
      { slug: 'car-electronics', name: 'Car Electronics', items: ['Car Dashcam', 'Car Charger', 'Phone Holder', 'Android Car Player', 'Reverse Camera', 'Tyre Inflator'], price: [9, 1299] },
      { slug: 'motorcycle', name: 'Motorcycle Gear', items: ['Full Face Helmet', 'Riding Gloves', 'Rain Coat Set', 'Motorcycle Cover', 'Box Top Case', 'Chain Lube'], variants: ['Size M', 'Size L', 'Size XL', 'Black', 'Universal Fit'], price: [9, 1299] },
      { slug: 'oils-parts', name: 'Oils & Spare Parts', items: ['Engine Oil 5W-30', 'Car Battery', 'Wiper Blades', 'Air Filter', 'Brake Pads', 'Spark Plugs'], variants: ['4L', 'NS60', '16"', '24"', 'Set of 4'], price: [9, 699] },
      { slug: 'car-interior', name: 'Car Interior', items: ['Seat Cover', 'Floor Mat', 'Steering Wheel Cover', 'Car Perfume', 'Windscreen Sunshade', 'Neck Pillow'], price: [5, 499] },
      { slug: 'tools-safety', name: 'Tools & Safety', items: ['Jumper Cable', 'Emergency Kit', 'Jack Stand', 'Tow Rope', 'Fire Extinguisher', 'Torque Wrench'], price: [15, 599] },
    ],
  },
  {
    slug: 'books-stationery',
    name: 'Books & Stationery',
    brands: ['Pena Emas', 'Dewan Ilmu', 'Buku Kita', 'Kertas', 'Pustaka', 'Ilham'],
    variants: ['Paperback', 'Hardcover', 'Bahasa Melayu Edition', 'English Edition', 'Box Set'],
    blurb: 'Printed and bound in Malaysia.',
    leaves: [
      { slug: 'fiction', name: 'Fiction', items: ['Malay Novel', 'Mystery Thriller', 'Romance Novel', 'Fantasy Series', 'Short Story Collection', 'Graphic Novel'], price: [9, 299] },
      { slug: 'non-fiction', name: 'Non-Fiction', items: ['Nyonya Cookbook', 'Business Book', 'Self-Help Guide', 'Malaysian History', 'Borneo Travel Guide', 'Biography'], price: [15, 199] },
      { slug: 'childrens-books', name: "Children's Books", items: ['Picture Book', 'Activity Book', 'Bedtime Stories', 'Colouring Book', 'Early Reader', 'Pop-Up Book'], price: [5, 99] },
      { slug: 'school-exam', name: 'School & Exam Prep', items: ['SPM Revision Guide', 'UPSR Workbook', 'PT3 Model Papers', 'STPM Notes', 'Dictionary', 'School Atlas'], variants: ['2026 Edition', 'Bahasa Melayu', 'English', 'Science Stream', 'Form 4'], price: [5, 89] },
      { slug: 'stationery', name: 'Stationery', items: ['Gel Pen Set', 'A5 Notebook', 'Mechanical Pencil', 'Highlighters', 'Pencil Case', 'Sticky Notes'], variants: ['Pack of 5', 'Pack of 10', 'Pastel', 'Black', 'Assorted'], price: [2, 59] },
      { slug: 'art-craft', name: 'Art & Craft', items: ['Watercolour Set', 'Sketchbook', 'Acrylic Paint', 'Batik Painting Kit', 'Calligraphy Pen Set', 'Origami Paper'], variants: ['12 Colours', '24 Colours', 'A4', 'A3', 'Beginner Set'], price: [5, 199] },
    ],
  },
  {
    slug: 'pets',
    name: 'Pets',
    brands: ['Kucing Comel', 'Setia', 'Ekor', 'Bulu', 'Paws KL', 'Jinak'],
    variants: ['Small', 'Medium', 'Large', 'Value Pack', 'Grey'],
    blurb: 'Vet-approved and loved by pets all over Malaysia.',
    leaves: [
      { slug: 'cat-food', name: 'Cat Food', items: ['Dry Cat Food', 'Wet Cat Food Pouch', 'Kitten Food', 'Cat Treats', 'Cat Milk', 'Tuna Topper'], variants: ['400g', '1.5kg', '7kg', 'Pack of 12', 'Chicken', 'Tuna'], price: [3, 299] },
      { slug: 'dog-food', name: 'Dog Food', items: ['Dry Dog Food', 'Wet Dog Food', 'Puppy Food', 'Dental Chews', 'Jerky Treats', 'Grain-Free Kibble'], variants: ['400g', '3kg', '15kg', 'Lamb', 'Chicken'], price: [5, 399] },
      { slug: 'cat-litter', name: 'Cat Litter & Care', items: ['Tofu Cat Litter', 'Bentonite Litter', 'Litter Box', 'Litter Scoop', 'Litter Mat', 'Pine Litter'], variants: ['6L', '10L', '4 Packs', 'Unscented', 'Green Tea'], price: [5, 299] },
      { slug: 'aquarium', name: 'Aquarium', items: ['Aquarium Tank', 'Filter Pump', 'Fish Food', 'Air Pump', 'LED Aquarium Light', 'Aquascape Stones'], variants: ['30cm', '60cm', '90cm', '100g', 'Starter Kit'], price: [5, 1499] },
      { slug: 'pet-accessories', name: 'Pet Accessories', items: ['Pet Carrier', 'Collar', 'Leash', 'Pet Bed', 'Scratching Post', 'Pet Bowl'], price: [5, 499] },
      { slug: 'pet-health', name: 'Pet Health & Grooming', items: ['Flea Spray', 'Deworming Tablets', 'Pet Vitamins', 'Grooming Brush', 'Pet Shampoo', 'Nail Clipper'], price: [5, 199] },
    ],
  },
];
